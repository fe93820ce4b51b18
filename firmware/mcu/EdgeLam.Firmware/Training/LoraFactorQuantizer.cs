using EdgeLam.Contracts.Wire;
using EdgeLam.Firmware.Quantization;

namespace EdgeLam.Firmware.Training;

/// <summary>INT8 upload of LoRA factors: per-tensor symmetric (zero point 0, scale max|x|/127), as the L tier sends them.</summary>
public static class LoraFactorQuantizer
{
    /// <summary>An int8 per-tensor frame of a float matrix [rows, columns].</summary>
    public static TensorFrame ToInt8Frame(float[] values, int rows, int columns)
    {
        if (values == null || values.Length != rows * columns)
        {
            throw new System.ArgumentException("Factor must hold rows·columns values.", nameof(values));
        }

        float largest = 0f;
        for (int i = 0; i < values.Length; i++)
        {
            float magnitude = values[i] < 0 ? -values[i] : values[i];
            largest = magnitude > largest ? magnitude : largest;
        }

        float scale = largest > 0 ? largest / 127f : 1f;
        var quantized = new sbyte[values.Length];
        for (int i = 0; i < values.Length; i++)
        {
            quantized[i] = FixedPointArithmetic.SaturateToInt8(FloatingPointBits.RoundHalfToEven(values[i] / (double)scale));
        }

        return TensorFrame.FromInt8(quantized, new int[] { rows, columns }, QuantizationKind.PerTensor, 0, new float[] { scale }, new int[] { 0 });
    }

    /// <summary>Real values of an f32, f16 or int8 (per-tensor or per-channel) frame: real = scale·(q − zero point).</summary>
    public static void Dequantize(TensorFrame frame, float[] destination)
    {
        if (frame == null || destination == null || destination.Length != frame.ElementCount)
        {
            throw new System.ArgumentException("Destination must hold the frame's elements.", nameof(destination));
        }

        if (frame.DataType == TensorDataType.Float32 || frame.DataType == TensorDataType.Float16)
        {
            for (int i = 0; i < destination.Length; i++)
            {
                destination[i] = frame.GetFloat(i);
            }

            return;
        }

        if (frame.DataType != TensorDataType.Int8)
        {
            throw new System.ArgumentException("LoRA factors travel as f32, f16 or int8, not " + TensorFrame.DataTypeName(frame.DataType) + ".", nameof(frame));
        }

        int channels = 1;
        int stride = destination.Length;
        if (frame.Quantization == QuantizationKind.PerChannel)
        {
            channels = frame.Shape[frame.QuantizationAxis];
            stride = 1;
            for (int d = frame.QuantizationAxis + 1; d < frame.Shape.Length; d++)
            {
                stride *= frame.Shape[d];
            }
        }

        for (int i = 0; i < destination.Length; i++)
        {
            int channel = channels == 1 ? 0 : (i / stride) % channels;
            destination[i] = frame.Scales[channel] * (frame.GetInteger(i) - frame.ZeroPoints[channel]);
        }
    }
}
