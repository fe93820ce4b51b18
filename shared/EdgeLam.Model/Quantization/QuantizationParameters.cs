namespace EdgeLam.Model.Quantization;

/// <summary>
/// Affine int8 quantization of one tensor: real = Scale · (q − ZeroPoint), q ∈ [−128, 127].
/// Rounding is to nearest, ties to even, as ONNX QuantizeLinear specifies.
/// </summary>
public readonly record struct QuantizationParameters(float Scale, int ZeroPoint)
{
    public const int Min = sbyte.MinValue;
    public const int Max = sbyte.MaxValue;

    /// <summary>
    /// Asymmetric parameters covering [min, max] widened to include 0, so that 0 is exactly representable
    /// (Jacob et al. 2018, "Quantization and Training of Neural Networks for Efficient Integer-Arithmetic-Only Inference", §2.1).
    /// </summary>
    public static QuantizationParameters FromRange(float min, float max)
    {
        if (float.IsNaN(min) || float.IsNaN(max) || min > max)
            throw new ArgumentException($"Invalid activation range [{min}, {max}].");
        min = MathF.Min(min, 0f);
        max = MathF.Max(max, 0f);
        var scale = (max - min) / (Max - Min);
        if (scale <= 0f || !float.IsFinite(scale))
            return new QuantizationParameters(1f, 0);
        var zeroPoint = (int)Math.Round(Min - min / scale, MidpointRounding.ToEven);
        return new QuantizationParameters(scale, Math.Clamp(zeroPoint, Min, Max));
    }

    /// <summary>Symmetric parameters (zero point 0) for a tensor whose magnitude is at most <paramref name="maxAbs"/>.</summary>
    public static QuantizationParameters Symmetric(float maxAbs) =>
        maxAbs > 0f && float.IsFinite(maxAbs) ? new QuantizationParameters(maxAbs / Max, 0) : new QuantizationParameters(1f, 0);

    /// <summary>ONNX QuantizeLinear: saturate(round_half_even(x / scale) + zero_point).</summary>
    public sbyte Quantize(float value)
    {
        var rounded = MathF.Round(value / Scale, MidpointRounding.ToEven) + ZeroPoint;
        return (sbyte)Math.Clamp(rounded, Min, Max);
    }

    public float Dequantize(sbyte value) => (value - ZeroPoint) * Scale;

    public void Quantize(ReadOnlySpan<float> values, Span<sbyte> quantized)
    {
        for (var i = 0; i < values.Length; i++)
            quantized[i] = Quantize(values[i]);
    }

    public void Dequantize(ReadOnlySpan<sbyte> quantized, Span<float> values)
    {
        for (var i = 0; i < quantized.Length; i++)
            values[i] = (quantized[i] - ZeroPoint) * Scale;
    }
}
