using System.Numerics;

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
    private const double P0 = -2.72614225801306e-10, P1 = 2.77068142495902e-08, P2 = -2.10102402082508e-06,
        P3 = -5.69250639462346e-05, P4 = -7.34990630326855e-04, P5 = -2.95459980854025e-03, P6 = -1.60960333262415e-02;
    private const double Q0 = -1.45660718464996e-05, Q1 = -2.13374055278905e-04, Q2 = -1.68282697438203e-03,
        Q3 = -7.37332916720468e-03, Q4 = -1.42647390514189e-02;

    /// <summary>The error function, absolute error below 1e-7.</summary>
    public static double Erf(double x)
    {
        if (double.IsNaN(x))
            return double.NaN;
        x = Math.Clamp(x, -4.0, 4.0);
        double x2 = x * x;
        double p = (((((((((((P0 * x2) + P1) * x2) + P2) * x2) + P3) * x2) + P4) * x2) + P5) * x2) + P6;
        double q = (((((((Q0 * x2) + Q1) * x2) + Q2) * x2) + Q3) * x2) + Q4;
        return x * p / q;
    }

    private static Vector<double> Erf(Vector<double> x)
    {
        x = Vector.Min(Vector.Max(x, new Vector<double>(-4.0)), new Vector<double>(4.0));
        Vector<double> x2 = x * x;
        Vector<double> p = (((((((((((new Vector<double>(P0) * x2) + new Vector<double>(P1)) * x2) + new Vector<double>(P2)) * x2)
            + new Vector<double>(P3)) * x2) + new Vector<double>(P4)) * x2) + new Vector<double>(P5)) * x2) + new Vector<double>(P6);
        Vector<double> q = (((((((new Vector<double>(Q0) * x2) + new Vector<double>(Q1)) * x2) + new Vector<double>(Q2)) * x2)
            + new Vector<double>(Q3)) * x2) + new Vector<double>(Q4);
        return x * p / q;
    }

    private static Vector<double> Apply(Vector<double> x) =>
        new Vector<double>(0.5) * x * (Vector<double>.One + Erf(x * new Vector<double>(InverseSqrt2)));

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
        if (output.Length < input.Length)
            throw new ArgumentException("Output is shorter than input.", nameof(output));
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            // Same double-precision arithmetic as the scalar path, so both give identical floats.
            for (; i + Vector<float>.Count <= input.Length; i += Vector<float>.Count)
            {
                Vector.Widen(new Vector<float>(input[i..]), out Vector<double> low, out Vector<double> high);
                Vector.Narrow(Apply(low), Apply(high)).CopyTo(output[i..]);
            }
        }
        for (; i < input.Length; i++)
            output[i] = Apply(input[i]);
    }

    /// <summary>inputGradient = outputGradient · GELU'(input).</summary>
    public static void Backward(ReadOnlySpan<float> input, ReadOnlySpan<float> outputGradient, Span<float> inputGradient)
    {
        for (int i = 0; i < input.Length; i++)
            inputGradient[i] = outputGradient[i] * Derivative(input[i]);
    }
}
