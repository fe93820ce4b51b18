namespace EdgeLam.Firmware.Quantization;

/// <summary>
/// Requantization bit-exact with ONNX Runtime's CPU QLinearMatMul (ai.onnx, opset 10/21) and QGemm (com.microsoft),
/// int8 in / int8 out, per-tensor or per-column B scales. ORT computes output_scale[c] = float32(float32(a_scale ·
/// b_scale[c]) / y_scale) (quantize_linear_matmul.cc, qgemm.cc) and MlasRequantizeOutput then evaluates
/// zp + round_half_to_even(clamp(float32(float32(acc) · output_scale[c]), −128 − zp, 127 − zp)) (mlas/lib/quantize.cpp).
/// Here the scale is computed the same way at Prepare and stored as an exact 24-bit significand and exponent; Eval
/// reproduces the two float32 roundings (int32 → float32, then the product) and the final round-half-to-even with
/// 64-bit integer shifts, so the device needs no float unit and still matches ORT to the bit.
/// </summary>
public sealed class OnnxRuntimeCompatibleRequantizer : Requantizer
{
    private const long Float32SignificandLimit = 1L << 24;

    private readonly long[] scaleSignificands;
    private readonly int[] scaleExponents;
    private readonly float[] scales;

    /// <summary>Precomputes the float32 output scale of each channel exactly as ONNX Runtime does.</summary>
    public OnnxRuntimeCompatibleRequantizer(float inputScale, float[] weightScales, QuantizationParameters output)
        : base(weightScales.Length, output.ZeroPoint)
    {
        ValidateScales(inputScale, weightScales);
        scaleSignificands = new long[weightScales.Length];
        scaleExponents = new int[weightScales.Length];
        scales = new float[weightScales.Length];
        for (int c = 0; c < weightScales.Length; c++)
        {
            float scale = OutputScale(inputScale, weightScales[c], output.Scale);
            if (!(scale >= 1.1754944E-38f) || float.IsInfinity(scale))
            {
                throw new System.ArgumentOutOfRangeException(nameof(weightScales), "Output scale of channel " + c.ToString() + " is not a normal float32: " + scale.ToString() + ".");
            }

            long significand;
            int exponent;
            FloatingPointBits.Decompose(scale, out significand, out exponent);
            // A float32 value has at most 24 significant bits; drop the 29 zero bits of the double view.
            scaleSignificands[c] = significand >> 29;
            scaleExponents[c] = exponent + 29;
            scales[c] = scale;
        }
    }

    /// <inheritdoc />
    public override RequantizationMode Mode => RequantizationMode.OnnxRuntimeCompatible;

    /// <summary>ONNX Runtime's float32 output scale: (a_scale · b_scale) / y_scale, each step rounded to float32.</summary>
    public static float OutputScale(float inputScale, float weightScale, float outputScale)
    {
        float product = (float)(inputScale * weightScale);
        return (float)(product / outputScale);
    }

    /// <summary>The float32 output scale of a channel.</summary>
    public float ScaleOf(int channel)
    {
        return scales[ChannelIndex(channel)];
    }

    /// <inheritdoc />
    public override sbyte Requantize(int accumulator, int channel)
    {
        int c = ChannelIndex(channel);
        return Scale(accumulator, scaleSignificands[c], scaleExponents[c], OutputZeroPoint);
    }

    /// <inheritdoc />
    public override void RequantizeRow(int[] accumulators, int accumulatorOffset, sbyte[] output, int outputOffset, int firstChannel, int count)
    {
        bool perTensor = Channels == 1;
        for (int i = 0; i < count; i++)
        {
            int c = perTensor ? 0 : firstChannel + i;
            output[outputOffset + i] = Scale(accumulators[accumulatorOffset + i], scaleSignificands[c], scaleExponents[c], OutputZeroPoint);
        }
    }

    private static sbyte Scale(int accumulator, long scaleSignificand, int scaleExponent, int zeroPoint)
    {
        if (accumulator == 0)
        {
            return FixedPointArithmetic.SaturateToInt8(zeroPoint);
        }

        long magnitude = accumulator < 0 ? -(long)accumulator : accumulator;
        int exponent = scaleExponent;

        // float32(acc): integers of 25 bits and more lose low bits, rounded half to even.
        if (magnitude >= Float32SignificandLimit)
        {
            int drop = FloatingPointBits.BitLength(magnitude) - 24;
            magnitude = FloatingPointBits.ShiftRightRoundHalfToEven(magnitude, drop);
            exponent += drop;
        }

        // float32(acc · scale): the exact product of two 24-bit significands (≤ 48 bits) rounded to 24 bits.
        long product = magnitude * scaleSignificand;
        int productBits = FloatingPointBits.BitLength(product);
        if (productBits > 24)
        {
            int drop = productBits - 24;
            product = FloatingPointBits.ShiftRightRoundHalfToEven(product, drop);
            exponent += drop;
        }

        // Round value = product · 2^exponent to an integer, half to even (ORT's cvtps / magic-number rounding).
        long rounded;
        if (exponent >= 0)
        {
            rounded = exponent >= 16 ? 1L << 40 : product << exponent;
        }
        else
        {
            rounded = exponent <= -26 ? 0 : FloatingPointBits.ShiftRightRoundHalfToEven(product, -exponent);
        }

        long signed = accumulator < 0 ? -rounded : rounded;
        return FixedPointArithmetic.SaturateToInt8(signed + zeroPoint);
    }
}
