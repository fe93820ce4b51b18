using EdgeLam.Firmware.Quantization;

namespace EdgeLam.Firmware.Kernels;

/// <summary>
/// Elementwise int8 addition with requantization (the residual connection), TFLite's int8 ADD: both inputs are
/// shifted left by 20 bits, scaled to the common scale 2·max(s_a, s_b) with fixed-point multipliers, added in int32,
/// and the sum is requantized to the output scale. Prepare computes the three multipliers; Eval is integer-only.
/// </summary>
public sealed class Int8AddKernel
{
    private const int LeftShift = 20;

    private int firstZeroPoint;
    private int secondZeroPoint;
    private int outputZeroPoint;
    private int firstMultiplier;
    private int firstShift;
    private int secondMultiplier;
    private int secondShift;
    private int outputMultiplier;
    private int outputShift;
    private bool prepared;

    /// <summary>Precomputes the multipliers for the two input scales and the output scale.</summary>
    public void Prepare(QuantizationParameters first, QuantizationParameters second, QuantizationParameters output)
    {
        if (first == null || second == null || output == null)
        {
            throw new System.ArgumentNullException(first == null ? nameof(first) : second == null ? nameof(second) : nameof(output));
        }

        double twiceMaximumScale = 2.0 * (first.Scale > second.Scale ? first.Scale : second.Scale);
        FixedPointArithmetic.QuantizeMultiplier(first.Scale / twiceMaximumScale, out firstMultiplier, out firstShift);
        FixedPointArithmetic.QuantizeMultiplier(second.Scale / twiceMaximumScale, out secondMultiplier, out secondShift);
        FixedPointArithmetic.QuantizeMultiplier(twiceMaximumScale / ((1 << LeftShift) * (double)output.Scale), out outputMultiplier, out outputShift);
        firstZeroPoint = first.ZeroPoint;
        secondZeroPoint = second.ZeroPoint;
        outputZeroPoint = output.ZeroPoint;
        prepared = true;
    }

    /// <summary>output = first + second, count elements.</summary>
    public void Eval(sbyte[] first, int firstOffset, sbyte[] second, int secondOffset, sbyte[] output, int outputOffset, int count)
    {
        if (!prepared)
        {
            throw new System.InvalidOperationException("Add kernel: Eval before Prepare.");
        }

        KernelArguments.CheckTensor(first, firstOffset, 1, count, nameof(first));
        KernelArguments.CheckTensor(second, secondOffset, 1, count, nameof(second));
        KernelArguments.CheckTensor(output, outputOffset, 1, count, nameof(output));
        for (int i = 0; i < count; i++)
        {
            int a = (first[firstOffset + i] - firstZeroPoint) << LeftShift;
            int b = (second[secondOffset + i] - secondZeroPoint) << LeftShift;
            int scaledA = FixedPointArithmetic.MultiplyByQuantizedMultiplier(a, firstMultiplier, firstShift);
            int scaledB = FixedPointArithmetic.MultiplyByQuantizedMultiplier(b, secondMultiplier, secondShift);
            int sum = FixedPointArithmetic.MultiplyByQuantizedMultiplier(scaledA + scaledB, outputMultiplier, outputShift);
            output[outputOffset + i] = FixedPointArithmetic.SaturateToInt8(sum + outputZeroPoint);
        }
    }
}
