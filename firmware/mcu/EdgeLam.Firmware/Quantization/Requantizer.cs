namespace EdgeLam.Firmware.Quantization;

/// <summary>How int32 accumulators become int8 outputs.</summary>
public enum RequantizationMode
{
    /// <summary>TFLite / CMSIS-NN: Q0.31 multiplier and shift per channel, gemmlowp rounding (the device default).</summary>
    FixedPoint = 0,

    /// <summary>Bit-exact with ONNX Runtime's CPU QLinearMatMul / QGemm (float32 scale, round half to even), computed in integers.</summary>
    OnnxRuntimeCompatible = 1,
}

/// <summary>
/// Maps a per-channel int32 accumulator (bias already added) to an int8 output. Built once at Prepare from the
/// real scales; <see cref="Requantize"/> and <see cref="RequantizeRow"/> are integer-only and allocate nothing.
/// </summary>
public abstract class Requantizer
{
    /// <summary>Stores the channel count and output zero point shared by every mode.</summary>
    protected Requantizer(int channels, int outputZeroPoint)
    {
        if (channels <= 0)
        {
            throw new System.ArgumentOutOfRangeException(nameof(channels), "A requantizer needs at least one channel, got " + channels.ToString() + ".");
        }

        Channels = channels;
        OutputZeroPoint = outputZeroPoint;
    }

    /// <summary>Number of output channels (1 for per-tensor).</summary>
    public int Channels { get; }

    /// <summary>Zero point added after scaling.</summary>
    public int OutputZeroPoint { get; }

    /// <summary>Which arithmetic this requantizer implements.</summary>
    public abstract RequantizationMode Mode { get; }

    /// <summary>
    /// Requantizer for accumulators at scale inputScale · weightScales[c] into an output at outputScale.
    /// A single weight scale means per-tensor; otherwise one per output channel.
    /// </summary>
    public static Requantizer Create(RequantizationMode mode, float inputScale, float[] weightScales, QuantizationParameters output)
    {
        if (weightScales == null || output == null)
        {
            throw new System.ArgumentNullException(weightScales == null ? nameof(weightScales) : nameof(output));
        }

        if (mode == RequantizationMode.FixedPoint)
        {
            return new FixedPointRequantizer(inputScale, weightScales, output);
        }

        if (mode == RequantizationMode.OnnxRuntimeCompatible)
        {
            return new OnnxRuntimeCompatibleRequantizer(inputScale, weightScales, output);
        }

        throw new System.ArgumentOutOfRangeException(nameof(mode), "Unknown requantization mode " + ((int)mode).ToString() + ".");
    }

    /// <summary>int8 output of one accumulator of the given channel (channel is ignored when per-tensor).</summary>
    public abstract sbyte Requantize(int accumulator, int channel);

    /// <summary>Requantizes count accumulators of consecutive channels starting at firstChannel.</summary>
    public virtual void RequantizeRow(int[] accumulators, int accumulatorOffset, sbyte[] output, int outputOffset, int firstChannel, int count)
    {
        for (int i = 0; i < count; i++)
        {
            output[outputOffset + i] = Requantize(accumulators[accumulatorOffset + i], firstChannel + i);
        }
    }

    /// <summary>Channel index into the per-channel tables (0 when per-tensor).</summary>
    protected int ChannelIndex(int channel)
    {
        return Channels == 1 ? 0 : channel;
    }

    /// <summary>Checks every scale is a positive finite float.</summary>
    protected static void ValidateScales(float inputScale, float[] weightScales)
    {
        if (!(inputScale > 0) || float.IsInfinity(inputScale))
        {
            throw new System.ArgumentOutOfRangeException(nameof(inputScale), "The input scale must be positive and finite, got " + inputScale.ToString() + ".");
        }

        for (int c = 0; c < weightScales.Length; c++)
        {
            if (!(weightScales[c] > 0) || float.IsInfinity(weightScales[c]))
            {
                throw new System.ArgumentOutOfRangeException(nameof(weightScales), "Weight scale of channel " + c.ToString() + " must be positive and finite, got " + weightScales[c].ToString() + ".");
            }
        }
    }
}
