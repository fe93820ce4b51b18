namespace EdgeLam.Firmware.Quantization;

/// <summary>
/// TFLite / CMSIS-NN per-channel requantization: real multiplier (double) s_in · s_w[c] / s_out split into a Q0.31
/// multiplier and shift at Prepare; Eval is MultiplyByQuantizedMultiplier + zero point + int8 saturation.
/// </summary>
public sealed class FixedPointRequantizer : Requantizer
{
    private readonly int[] multipliers;
    private readonly int[] shifts;

    /// <summary>Precomputes one multiplier and shift per weight scale.</summary>
    public FixedPointRequantizer(float inputScale, float[] weightScales, QuantizationParameters output)
        : base(weightScales.Length, output.ZeroPoint)
    {
        ValidateScales(inputScale, weightScales);
        multipliers = new int[weightScales.Length];
        shifts = new int[weightScales.Length];
        for (int c = 0; c < weightScales.Length; c++)
        {
            // TFLite computes the effective scale in double from the float scales.
            double real = (double)inputScale * weightScales[c] / output.Scale;
            int multiplier;
            int shift;
            FixedPointArithmetic.QuantizeMultiplier(real, out multiplier, out shift);
            multipliers[c] = multiplier;
            shifts[c] = shift;
        }
    }

    /// <inheritdoc />
    public override RequantizationMode Mode => RequantizationMode.FixedPoint;

    /// <summary>Q0.31 multiplier of a channel.</summary>
    public int MultiplierOf(int channel)
    {
        return multipliers[ChannelIndex(channel)];
    }

    /// <summary>Power-of-two shift of a channel (positive = left).</summary>
    public int ShiftOf(int channel)
    {
        return shifts[ChannelIndex(channel)];
    }

    /// <inheritdoc />
    public override sbyte Requantize(int accumulator, int channel)
    {
        int c = ChannelIndex(channel);
        int scaled = FixedPointArithmetic.MultiplyByQuantizedMultiplier(accumulator, multipliers[c], shifts[c]);
        return FixedPointArithmetic.SaturateToInt8(scaled + OutputZeroPoint);
    }

    /// <inheritdoc />
    public override void RequantizeRow(int[] accumulators, int accumulatorOffset, sbyte[] output, int outputOffset, int firstChannel, int count)
    {
        bool perTensor = Channels == 1;
        for (int i = 0; i < count; i++)
        {
            int c = perTensor ? 0 : firstChannel + i;
            int scaled = FixedPointArithmetic.MultiplyByQuantizedMultiplier(accumulators[accumulatorOffset + i], multipliers[c], shifts[c]);
            output[outputOffset + i] = FixedPointArithmetic.SaturateToInt8(scaled + OutputZeroPoint);
        }
    }
}
