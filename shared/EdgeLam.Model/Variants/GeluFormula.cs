namespace EdgeLam.Model.Variants;

/// <summary>
/// GELU as the model core computes it: the exact form x·Φ(x) = 0.5·x·(1 + erf(x/√2))
/// (Hendrycks &amp; Gimpel 2016). The exported graphs spell the same formula with ONNX Erf.
/// </summary>
public static class GeluFormula
{
    public const bool UsesTanhApproximation = false;

    public static float Evaluate(float x) => 0.5f * x * (1f + Erf(x * 0.70710678f));

    /// <summary>erf by Abramowitz &amp; Stegun 7.1.26 (|error| ≤ 1.5e-7), since .NET has no erf.</summary>
    public static float Erf(float x)
    {
        var sign = x < 0 ? -1.0 : 1.0;
        var a = Math.Abs((double)x);
        var t = 1.0 / (1.0 + 0.3275911 * a);
        var polynomial = ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t;
        return (float)(sign * (1.0 - polynomial * Math.Exp(-a * a)));
    }
}
