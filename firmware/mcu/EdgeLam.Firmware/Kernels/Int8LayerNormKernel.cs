using EdgeLam.Firmware.Quantization;

namespace EdgeLam.Firmware.Kernels;

/// <summary>
/// Integer LayerNorm over rows of D int8 values (Ba et al. 2016; integer formulation after I-BERT, Kim et al. 2021).
/// With x = q − z_in, S = Σx and d_i = D·x_i − S = D·(x_i − mean), the normalized value is
/// n_i = d_i / √(Σd²/D + D²·ε/s_in²): Σd² is exact in int64, the square root is an integer bit-by-bit root (of the
/// radicand scaled by 2^16), n_i is kept in Q16, and γ/s_out, β/s_out + z_out are Prepare-time fixed-point constants.
/// Eval is integer-only; error is about half an output step.
/// </summary>
public sealed class Int8LayerNormKernel
{
    private const int NormalizedFractionBits = 16;
    private const int GammaFractionBits = 12;
    private const int OutputShift = NormalizedFractionBits + GammaFractionBits;

    private long[] gammaFixed = new long[0];
    private long[] betaFixed = new long[0];
    private long epsilonTerm;
    private int inputZeroPoint;
    private int width;

    /// <summary>Features per row (D).</summary>
    public int Width => width;

    /// <summary>Quantizes γ/s_out and β/s_out + z_out and the ε term for the given input and output quantization.</summary>
    public void Prepare(float[] gamma, float[] beta, double epsilon, QuantizationParameters input, QuantizationParameters output)
    {
        if (gamma == null || beta == null || input == null || output == null)
        {
            throw new System.ArgumentNullException(gamma == null ? nameof(gamma) : beta == null ? nameof(beta) : input == null ? nameof(input) : nameof(output));
        }

        if (gamma.Length == 0 || gamma.Length != beta.Length || gamma.Length > 1024)
        {
            throw new System.ArgumentException("LayerNorm needs γ and β of the same length in [1, 1024] (Σd² stays within int64), got " + gamma.Length.ToString() + " and " + beta.Length.ToString() + ".", nameof(gamma));
        }

        if (!(epsilon >= 0) || double.IsInfinity(epsilon))
        {
            throw new System.ArgumentOutOfRangeException(nameof(epsilon), "LayerNorm ε must be finite and non-negative, got " + epsilon.ToString() + ".");
        }

        int d = gamma.Length;
        gammaFixed = new long[d];
        betaFixed = new long[d];
        for (int i = 0; i < d; i++)
        {
            double gammaScaled = gamma[i] / (double)output.Scale * (1L << GammaFractionBits);
            double betaScaled = ((beta[i] / (double)output.Scale) + output.ZeroPoint) * (1L << OutputShift);
            if (PortableMath.Abs(gammaScaled) > 6.8e10 || PortableMath.Abs(betaScaled) > 1e17)
            {
                throw new System.ArgumentOutOfRangeException(nameof(output), "γ or β of feature " + i.ToString() + " is too large for the output scale " + output.Scale.ToString() + ".");
            }

            gammaFixed[i] = FloatingPointBits.RoundHalfToEven(gammaScaled);
            betaFixed[i] = FloatingPointBits.RoundHalfToEven(betaScaled);
        }

        // D³·ε/s_in² is the ε of the float LayerNorm in the units of Σd².
        double epsilonInUnits = (double)d * d * d * epsilon / ((double)input.Scale * input.Scale);
        epsilonTerm = epsilonInUnits > 1e12 ? 1000000000000L : FloatingPointBits.RoundHalfToEven(epsilonInUnits);
        inputZeroPoint = input.ZeroPoint;
        width = d;
    }

    /// <summary>Normalizes rows rows of Width values.</summary>
    public void Eval(sbyte[] input, int inputOffset, int rows, sbyte[] output, int outputOffset)
    {
        if (width == 0)
        {
            throw new System.InvalidOperationException("LayerNorm kernel: Eval before Prepare.");
        }

        KernelArguments.CheckTensor(input, inputOffset, rows, width, nameof(input));
        KernelArguments.CheckTensor(output, outputOffset, rows, width, nameof(output));
        long rounding = 1L << (OutputShift - 1);
        for (int r = 0; r < rows; r++)
        {
            int x = inputOffset + (r * width);
            int y = outputOffset + (r * width);
            int sum = 0;
            for (int i = 0; i < width; i++)
            {
                sum += input[x + i] - inputZeroPoint;
            }

            long sumOfSquares = 0;
            for (int i = 0; i < width; i++)
            {
                long deviation = ((long)width * (input[x + i] - inputZeroPoint)) - sum;
                sumOfSquares += deviation * deviation;
            }

            // √((Σd² + D³ε') / D) in Q8: the radicand is scaled by 2^16 before the integer root.
            long root = PortableMath.IntegerSquareRoot(((sumOfSquares + epsilonTerm) << 16) / width);
            if (root == 0)
            {
                root = 1;
            }

            long halfRoot = root >> 1;
            for (int i = 0; i < width; i++)
            {
                long deviation = ((long)width * (input[x + i] - inputZeroPoint)) - sum;
                long numerator = deviation << (NormalizedFractionBits + 8);
                long normalized = numerator >= 0 ? (numerator + halfRoot) / root : -((-numerator + halfRoot) / root);
                long value = (normalized * gammaFixed[i]) + betaFixed[i] + rounding;
                output[y + i] = FixedPointArithmetic.SaturateToInt8(value >> OutputShift);
            }
        }
    }
}
