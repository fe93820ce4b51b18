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
}
