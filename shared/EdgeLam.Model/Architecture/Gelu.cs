namespace EdgeLam.Model.Architecture;

/// <summary>
/// The exact GELU, 0.5·x·(1 + erf(x/√2)) (Hendrycks and Gimpel 2016), i.e. ONNX Gelu with approximate="none"
/// (equivalently x·0.5·(1+Erf(x·(1/√2))) in opset-13 Erf form). Not the tanh approximation.
/// </summary>
public static class Gelu
{
    private const double InverseSqrt2 = 0.70710678118654752440;
    private const double InverseSqrt2Pi = 0.39894228040143267794;

    // Rational minimax approximation erf(x) ≈ x·P(x²)/Q(x²) on [-4, 4], the one used for float erf in Eigen
    // and XLA; evaluated in double its absolute error is below 6.5e-8 (checked against a series in the tests).
    private static readonly double[] Numerator =
    [
        -2.72614225801306e-10, 2.77068142495902e-08, -2.10102402082508e-06, -5.69250639462346e-05,
        -7.34990630326855e-04, -2.95459980854025e-03, -1.60960333262415e-02,
    ];

    private static readonly double[] Denominator =
    [
        -1.45660718464996e-05, -2.13374055278905e-04, -1.68282697438203e-03, -7.37332916720468e-03,
        -1.42647390514189e-02,
    ];

    /// <summary>The error function, absolute error below 1e-7.</summary>
    public static double Erf(double x)
    {
        if (double.IsNaN(x))
            return double.NaN;
        x = Math.Clamp(x, -4.0, 4.0);
        double x2 = x * x;
        double p = Numerator[0];
        for (int i = 1; i < Numerator.Length; i++)
            p = (p * x2) + Numerator[i];
        double q = Denominator[0];
        for (int i = 1; i < Denominator.Length; i++)
            q = (q * x2) + Denominator[i];
        return x * p / q;
    }

    public static float Apply(float x) => (float)(0.5 * x * (1.0 + Erf(x * InverseSqrt2)));

    /// <summary>dGELU/dx = Φ(x) + x·φ(x).</summary>
    public static float Derivative(float x)
    {
        double cdf = 0.5 * (1.0 + Erf(x * InverseSqrt2));
        double pdf = InverseSqrt2Pi * Math.Exp(-0.5 * x * x);
        return (float)(cdf + (x * pdf));
    }

    public static void Forward(ReadOnlySpan<float> input, Span<float> output)
    {
        for (int i = 0; i < input.Length; i++)
            output[i] = Apply(input[i]);
    }

    /// <summary>inputGradient = outputGradient · GELU'(input).</summary>
    public static void Backward(ReadOnlySpan<float> input, ReadOnlySpan<float> outputGradient, Span<float> inputGradient)
    {
        for (int i = 0; i < input.Length; i++)
            inputGradient[i] = outputGradient[i] * Derivative(input[i]);
    }
}
