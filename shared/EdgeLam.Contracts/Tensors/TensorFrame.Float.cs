// Float convenience for .NET sides (model core, agent, gateway aggregation); the device uses the portable part.
//
//   TensorFrame f32 = TensorFrame.FromFloats(values, [rank, inputs]);                        // f32, exact
//   TensorFrame f16 = TensorFrame.FromFloats(values, [rank, inputs], TensorDataType.Float16); // round to nearest even
//   TensorFrame q8  = TensorFrame.QuantizePerTensor(values, shape);      // int8 asymmetric, one scale and zero point
//   TensorFrame w8  = TensorFrame.QuantizePerChannel(values, shape, 0);  // int8 symmetric, one scale per index of axis 0
//   float[] back    = frame.Dequantize();                                // any dtype: real = scale * (q - zeroPoint)
//   byte[] bytes    = TensorFrameCodec.Encode(frame);  TensorFrame again = TensorFrameCodec.Decode(bytes);
//
// Quantization follows the TFLite / ONNX convention: real = scale * (q - zeroPoint), q = clamp(round(real / scale) + zeroPoint).
using System.Runtime.InteropServices;

namespace EdgeLam.Contracts.Wire;

/// <summary>Float conversions of tensor frames for the .NET sides.</summary>
public sealed partial class TensorFrame
{
    /// <summary>An unquantized f32 or f16 frame from float values; NaN or infinity is a NonFinite error.</summary>
    public static TensorFrame FromFloats(ReadOnlySpan<float> values, int[] shape, TensorDataType dataType = TensorDataType.Float32)
    {
        ArgumentNullException.ThrowIfNull(shape);
        byte[] payload;
        if (dataType == TensorDataType.Float32)
        {
            payload = new byte[values.Length * sizeof(float)];
            if (BitConverter.IsLittleEndian)
            {
                MemoryMarshal.AsBytes(values).CopyTo(payload);
            }
            else
            {
                for (int i = 0; i < values.Length; i++)
                {
                    LittleEndian.WriteSingle(payload, i * 4, values[i]);
                }
            }
        }
        else if (dataType == TensorDataType.Float16)
        {
            payload = new byte[values.Length * 2];
            for (int i = 0; i < values.Length; i++)
            {
                LittleEndian.WriteUInt16(payload, i * 2, HalfPrecision.FromSingle(values[i]));
            }
        }
        else
        {
            throw new ArgumentException($"FromFloats makes f32 or f16 frames; use QuantizePerTensor or QuantizePerChannel for {DataTypeName(dataType)}", nameof(dataType));
        }

        return new TensorFrame(dataType, shape, payload);
    }

    /// <summary>
    /// Int8 asymmetric per-tensor quantization: the range [min(x,0), max(x,0)] maps onto [-128, 127] so that
    /// zero is exact (as ONNX QuantizeLinear with a computed zero point).
    /// </summary>
    public static TensorFrame QuantizePerTensor(ReadOnlySpan<float> values, int[] shape)
    {
        ArgumentNullException.ThrowIfNull(shape);
        RequireFinite(values);
        float minimum = 0f;
        float maximum = 0f;
        foreach (float value in values)
        {
            minimum = Math.Min(minimum, value);
            maximum = Math.Max(maximum, value);
        }

        float scale = (maximum - minimum) / 255f;
        if (!(scale > 0f) || !float.IsFinite(scale))
        {
            scale = 1f;
        }

        int zeroPoint = Math.Clamp((int)MathF.Round(-128f - (minimum / scale), MidpointRounding.ToEven), -128, 127);
        byte[] payload = new byte[values.Length];
        for (int i = 0; i < values.Length; i++)
        {
            payload[i] = (byte)(sbyte)Quantize(values[i], scale, zeroPoint, -128, 127);
        }

        return new TensorFrame(TensorDataType.Int8, shape, QuantizationKind.PerTensor, 0, [scale], [zeroPoint], payload);
    }

    /// <summary>
    /// Int8 symmetric per-channel quantization along <paramref name="axis"/> (zero point 0, range [-127, 127]),
    /// the scheme DESIGN.md uses for weights and LoRA factors on L-tier devices.
    /// </summary>
    public static TensorFrame QuantizePerChannel(ReadOnlySpan<float> values, int[] shape, int axis)
    {
        ArgumentNullException.ThrowIfNull(shape);
        RequireFinite(values);
        if (axis < 0 || axis >= shape.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(axis), $"axis {axis} outside rank {shape.Length}");
        }

        int channels = shape[axis];
        int inner = 1;
        for (int d = axis + 1; d < shape.Length; d++)
        {
            inner *= shape[d];
        }

        float[] maximumMagnitude = new float[channels];
        for (int i = 0; i < values.Length; i++)
        {
            int channel = i / inner % channels;
            maximumMagnitude[channel] = Math.Max(maximumMagnitude[channel], Math.Abs(values[i]));
        }

        float[] scales = new float[channels];
        for (int c = 0; c < channels; c++)
        {
            scales[c] = maximumMagnitude[c] > 0f ? maximumMagnitude[c] / 127f : 1f;
        }

        byte[] payload = new byte[values.Length];
        for (int i = 0; i < values.Length; i++)
        {
            payload[i] = (byte)(sbyte)Quantize(values[i], scales[i / inner % channels], 0, -127, 127);
        }

        return new TensorFrame(TensorDataType.Int8, shape, QuantizationKind.PerChannel, axis, scales, new int[channels], payload);
    }

    /// <summary>
    /// The real values: f32 and f16 exactly, quantized integers as scale * (q - zeroPoint), unquantized integers as themselves.
    /// </summary>
    public float[] Dequantize()
    {
        if (_dataType is TensorDataType.Float32 or TensorDataType.Float16)
        {
            return ToFloatArray();
        }

        float[] values = new float[_elementCount];
        if (_quantization == QuantizationKind.None)
        {
            for (int i = 0; i < values.Length; i++)
            {
                values[i] = GetInteger(i);
            }

            return values;
        }

        int channels = _scales.Length;
        int inner = 1;
        if (_quantization == QuantizationKind.PerChannel)
        {
            for (int d = _quantizationAxis + 1; d < _shape.Length; d++)
            {
                inner *= _shape[d];
            }
        }

        for (int i = 0; i < values.Length; i++)
        {
            int channel = channels == 1 ? 0 : i / inner % channels;
            values[i] = _scales[channel] * (GetInteger(i) - _zeroPoints[channel]);
        }

        return values;
    }

    private static int Quantize(float value, float scale, int zeroPoint, int minimum, int maximum)
    {
        return Math.Clamp((int)MathF.Round(value / scale, MidpointRounding.ToEven) + zeroPoint, minimum, maximum);
    }

    private static void RequireFinite(ReadOnlySpan<float> values)
    {
        for (int i = 0; i < values.Length; i++)
        {
            if (!float.IsFinite(values[i]))
            {
                throw new WireFormatException(WireErrorCode.NonFinite, "values", $"element {i} is NaN or infinite");
            }
        }
    }
}
