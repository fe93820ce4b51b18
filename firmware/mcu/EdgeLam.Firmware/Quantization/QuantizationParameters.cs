namespace EdgeLam.Firmware.Quantization;

/// <summary>
/// Affine int8 quantization of an activation tensor (per tensor): real = Scale · (q − ZeroPoint).
/// </summary>
public sealed class QuantizationParameters
{
    /// <summary>Creates parameters after checking the scale is a positive normal float and the zero point an int8.</summary>
    public QuantizationParameters(float scale, int zeroPoint)
    {
        if (float.IsNaN(scale) || float.IsInfinity(scale) || scale < 1e-30f)
        {
            throw new System.ArgumentOutOfRangeException(nameof(scale), "A quantization scale must be a finite number of at least 1e-30, got " + scale.ToString() + ".");
        }

        if (zeroPoint < FixedPointArithmetic.Int8Minimum || zeroPoint > FixedPointArithmetic.Int8Maximum)
        {
            throw new System.ArgumentOutOfRangeException(nameof(zeroPoint), "An int8 zero point must be in [-128, 127], got " + zeroPoint.ToString() + ".");
        }

        Scale = scale;
        ZeroPoint = zeroPoint;
    }

    /// <summary>Real value of one quantization step.</summary>
    public float Scale { get; }

    /// <summary>The int8 code of real zero.</summary>
    public int ZeroPoint { get; }

    /// <summary>Parameters covering [minimum, maximum] (widened to include 0), as the TFLite / ONNX converters choose them.</summary>
    public static QuantizationParameters FromRange(float minimum, float maximum)
    {
        if (float.IsNaN(minimum) || float.IsNaN(maximum) || minimum > maximum)
        {
            throw new System.ArgumentOutOfRangeException(nameof(minimum), "A quantization range needs minimum <= maximum, got [" + minimum.ToString() + ", " + maximum.ToString() + "].");
        }

        double low = minimum < 0 ? minimum : 0;
        double high = maximum > 0 ? maximum : 0;
        if (high - low < 1e-8)
        {
            high = low + 1e-8;
        }

        double scale = (high - low) / 255.0;
        long zeroPoint = FixedPointArithmetic.Int8Minimum - FloatingPointBits.RoundHalfToEven(low / scale);
        return new QuantizationParameters((float)scale, FixedPointArithmetic.SaturateToInt8(zeroPoint));
    }

    /// <summary>ONNX QuantizeLinear as MLAS computes it: saturate(round_half_to_even(float32(value / Scale)) + ZeroPoint).</summary>
    public sbyte Quantize(float value)
    {
        float scaled = (float)(value / Scale);
        if (float.IsNaN(scaled))
        {
            throw new System.ArgumentOutOfRangeException(nameof(value), "Cannot quantize NaN.");
        }

        if (scaled > 1e6)
        {
            return FixedPointArithmetic.Int8Maximum;
        }

        if (scaled < -1e6)
        {
            return FixedPointArithmetic.Int8Minimum;
        }

        return FixedPointArithmetic.SaturateToInt8(FloatingPointBits.RoundHalfToEven(scaled) + ZeroPoint);
    }

    /// <summary>ONNX DequantizeLinear: (q − ZeroPoint) · Scale.</summary>
    public float Dequantize(sbyte quantized)
    {
        return (quantized - ZeroPoint) * Scale;
    }

    /// <summary>Quantizes count values of a float array into an int8 array.</summary>
    public void Quantize(float[] values, int valueOffset, sbyte[] quantized, int quantizedOffset, int count)
    {
        for (int i = 0; i < count; i++)
        {
            quantized[quantizedOffset + i] = Quantize(values[valueOffset + i]);
        }
    }

    /// <summary>Dequantizes count int8 codes into a float array.</summary>
    public void Dequantize(sbyte[] quantized, int quantizedOffset, float[] values, int valueOffset, int count)
    {
        for (int i = 0; i < count; i++)
        {
            values[valueOffset + i] = Dequantize(quantized[quantizedOffset + i]);
        }
    }
}
