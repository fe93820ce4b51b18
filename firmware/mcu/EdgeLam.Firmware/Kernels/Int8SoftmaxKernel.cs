using EdgeLam.Firmware.Quantization;

namespace EdgeLam.Firmware.Kernels;

/// <summary>
/// Integer softmax over rows of int8 logits, output int8 at scale 1/256 and zero point −128 (TFLite's int8 softmax
/// output). softmax is shift-invariant, so with d = max − q ∈ [0, 255] Prepare tabulates e^(−β·s_in·d) in Q16
/// (65536 = 1); Eval sums table entries in int32 and divides with rounding: q_out = ⌊(256·e_d + Σ/2) / Σ⌋ − 128.
/// β folds the attention temperature 1/√d_head (Vaswani et al. 2017) into the table.
/// </summary>
public sealed class Int8SoftmaxKernel
{
    private const int ExpOne = 1 << 16;
    private const int MaximumRowLength = 32767;

    private readonly int[] exponentials = new int[256];
    private int rowLength;

    /// <summary>The fixed output quantization: scale 1/256, zero point −128.</summary>
    public static QuantizationParameters OutputQuantization { get; } = new QuantizationParameters(1f / 256f, -128);

    /// <summary>Length of one softmax row.</summary>
    public int RowLength => rowLength;

    /// <summary>Tabulates e^(−β·s_in·d) for d = 0..255 in Q16.</summary>
    public void Prepare(QuantizationParameters input, int rowLength, double beta)
    {
        if (input == null)
        {
            throw new System.ArgumentNullException(nameof(input));
        }

        if (rowLength <= 0 || rowLength > MaximumRowLength)
        {
            throw new System.ArgumentOutOfRangeException(nameof(rowLength), "Softmax row length must be in [1, 32767] (the Q16 sum stays in int32), got " + rowLength.ToString() + ".");
        }

        if (!(beta > 0) || double.IsInfinity(beta))
        {
            throw new System.ArgumentOutOfRangeException(nameof(beta), "Softmax β must be positive and finite, got " + beta.ToString() + ".");
        }

        for (int d = 0; d < 256; d++)
        {
            exponentials[d] = (int)FloatingPointBits.RoundHalfToEven(PortableMath.Exp(-beta * input.Scale * d) * ExpOne);
        }

        this.rowLength = rowLength;
    }

    /// <summary>Q16 value of e^(−β·s_in·d) (for inspection and tests).</summary>
    public int ExponentialOf(int distanceFromMaximum)
    {
        return exponentials[distanceFromMaximum];
    }

    /// <summary>Softmax of each of rows rows of RowLength logits.</summary>
    public void Eval(sbyte[] input, int inputOffset, int rows, sbyte[] output, int outputOffset)
    {
        if (rowLength == 0)
        {
            throw new System.InvalidOperationException("Softmax kernel: Eval before Prepare.");
        }

        KernelArguments.CheckTensor(input, inputOffset, rows, rowLength, nameof(input));
        KernelArguments.CheckTensor(output, outputOffset, rows, rowLength, nameof(output));
        for (int r = 0; r < rows; r++)
        {
            int x = inputOffset + (r * rowLength);
            int y = outputOffset + (r * rowLength);
            int maximum = input[x];
            for (int i = 1; i < rowLength; i++)
            {
                maximum = input[x + i] > maximum ? input[x + i] : maximum;
            }

            int sum = 0;
            for (int i = 0; i < rowLength; i++)
            {
                sum += exponentials[maximum - input[x + i]];
            }

            int halfSum = sum >> 1;
            for (int i = 0; i < rowLength; i++)
            {
                long probability256 = (((long)exponentials[maximum - input[x + i]] << 8) + halfSum) / sum;
                output[y + i] = FixedPointArithmetic.SaturateToInt8(probability256 - 128);
            }
        }
    }
}
