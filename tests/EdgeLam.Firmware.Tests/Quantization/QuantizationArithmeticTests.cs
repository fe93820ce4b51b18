using System.Numerics;
using EdgeLam.Firmware.Quantization;

namespace EdgeLam.Firmware.Tests.Quantization;

/// <summary>
/// The shared quantization arithmetic against independent oracles: BigInteger rational rounding for the gemmlowp
/// primitives, System.Math for frexp / rounding / exp / sqrt, and real float32 arithmetic for the ONNX Runtime mode.
/// </summary>
public sealed class QuantizationArithmeticTests
{
    [Theory]
    [InlineData(0.5, 1 << 30, 0)]
    [InlineData(1.0, 1 << 30, 1)]
    [InlineData(0.25, 1 << 30, -1)]
    [InlineData(0.75, 1610612736, 0)]
    [InlineData(0.0, 0, 0)]
    [InlineData(1e-12, 0, 0)]
    public void Quantize_multiplier_gives_tflite_values(double real, int expectedMultiplier, int expectedShift)
    {
        FixedPointArithmetic.QuantizeMultiplier(real, out var multiplier, out var shift);
        Assert.Equal((expectedMultiplier, expectedShift), (multiplier, shift));
    }

    [Fact]
    public void Quantize_multiplier_matches_frexp_and_round_on_random_doubles()
    {
        var random = new Random(7);
        for (int i = 0; i < 100_000; i++)
        {
            double real = Math.Pow(2, -30 + (40 * random.NextDouble()));
            FixedPointArithmetic.QuantizeMultiplier(real, out var multiplier, out var shift);
            // TFLite: q = frexp(real, &shift); q_fixed = round(q · 2^31), carried into the exponent when it reaches 2^31.
            int expectedShift = Math.ILogB(real) + 1;
            double fraction = real / Math.Pow(2, expectedShift);
            long expected = (long)Math.Round(fraction * 2147483648.0, MidpointRounding.AwayFromZero);
            if (expected == 1L << 31) { expected /= 2; expectedShift++; }
            Assert.Equal((expected, expectedShift), ((long)multiplier, shift));
        }
    }

    [Fact]
    public void Quantize_multiplier_rejects_negative_and_not_finite_values()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => FixedPointArithmetic.QuantizeMultiplier(-0.1, out _, out _));
        Assert.Throws<ArgumentOutOfRangeException>(() => FixedPointArithmetic.QuantizeMultiplier(double.NaN, out _, out _));
        Assert.Throws<ArgumentOutOfRangeException>(() => FixedPointArithmetic.QuantizeMultiplier(double.PositiveInfinity, out _, out _));
    }

    [Fact]
    public void Saturating_rounding_doubling_high_mul_rounds_half_up_exactly()
    {
        var random = new Random(11);
        for (int i = 0; i < 200_000; i++)
        {
            int a = RandomInt(random), b = RandomInt(random);
            // Oracle: floor(a·b / 2^31 + 1/2), the value gemmlowp's nudge-and-truncate produces for both signs.
            BigInteger twice = (2 * (BigInteger)a * b) + (BigInteger.One << 31);
            BigInteger expected = FloorDivide(twice, BigInteger.One << 32);
            if (a == int.MinValue && b == int.MinValue) expected = int.MaxValue;
            Assert.Equal(expected, (BigInteger)FixedPointArithmetic.SaturatingRoundingDoublingHighMul(a, b));
        }

        Assert.Equal(int.MaxValue, FixedPointArithmetic.SaturatingRoundingDoublingHighMul(int.MinValue, int.MinValue));
    }

    [Fact]
    public void Rounding_divide_by_power_of_two_rounds_half_away_from_zero()
    {
        var random = new Random(13);
        for (int i = 0; i < 200_000; i++)
        {
            int x = RandomInt(random);
            int exponent = random.Next(0, 32);
            BigInteger magnitude = BigInteger.Abs(x);
            BigInteger rounded = exponent == 0 ? magnitude : (magnitude + (BigInteger.One << (exponent - 1))) >> exponent;
            BigInteger expected = x < 0 ? -rounded : rounded;
            Assert.Equal(expected, (BigInteger)FixedPointArithmetic.RoundingDivideByPowerOfTwo(x, exponent));
        }

        Assert.Equal(3, FixedPointArithmetic.RoundingDivideByPowerOfTwo(10, 2));
        Assert.Equal(-3, FixedPointArithmetic.RoundingDivideByPowerOfTwo(-10, 2));
        Assert.Equal(2, FixedPointArithmetic.RoundingDivideByPowerOfTwo(9, 2));
    }

    [Fact]
    public void Multiply_by_quantized_multiplier_stays_within_one_step_of_the_real_product()
    {
        var random = new Random(17);
        for (int i = 0; i < 100_000; i++)
        {
            double real = Math.Pow(2, -20 + (19 * random.NextDouble()));
            int x = random.Next(-(1 << 24), 1 << 24);
            FixedPointArithmetic.QuantizeMultiplier(real, out var multiplier, out var shift);
            int result = FixedPointArithmetic.MultiplyByQuantizedMultiplier(x, multiplier, shift);
            // Two roundings (high mul, then shift) plus the multiplier's 2^-31 relative error.
            Assert.InRange(result - (x * real), -1.0, 1.0);
        }
    }

    [Fact]
    public void Onnx_runtime_compatible_requantizer_equals_float32_arithmetic()
    {
        var random = new Random(19);
        int ties = 0;
        for (int i = 0; i < 300_000; i++)
        {
            float scale = i % 3 == 0
                ? MathF.ScaleB(1f, -random.Next(1, 24))                     // power of two: exact .5 ties
                : (float)Math.Pow(10, -9 + (9 * random.NextDouble()));
            int zeroPoint = random.Next(-128, 128);
            int accumulator = (i % 4) switch
            {
                0 => random.Next(-1000, 1000),
                1 => RandomInt(random),
                2 => random.Next(-(1 << 26), 1 << 26) | 1,
                _ => random.Next(-(1 << 20), 1 << 20),
            };
            var output = new QuantizationParameters(1f, zeroPoint);
            // Scales (a=scale, b=1, y=1) make ORT's output scale exactly `scale`.
            var requantizer = new OnnxRuntimeCompatibleRequantizer(scale, [1f], output);
            float product = (float)((float)accumulator * scale);
            float clamped = Math.Clamp(product, -128f - zeroPoint, 127f - zeroPoint);
            int expected = (int)MathF.Round(clamped, MidpointRounding.ToEven) + zeroPoint;
            if (MathF.Abs(product - MathF.Truncate(product)) == 0.5f) ties++;
            Assert.Equal(expected, requantizer.Requantize(accumulator, 0));
        }

        Assert.True(ties > 1000, "power-of-two scales must produce exact ties");
    }

    [Fact]
    public void Onnx_runtime_output_scale_is_the_float32_expression()
    {
        var random = new Random(23);
        for (int i = 0; i < 10_000; i++)
        {
            float a = (float)random.NextDouble() + 1e-3f, b = (float)random.NextDouble() + 1e-3f, y = (float)random.NextDouble() + 1e-3f;
            float product = a * b;
            Assert.Equal(product / y, OnnxRuntimeCompatibleRequantizer.OutputScale(a, b, y));
        }
    }

    [Fact]
    public void Rounding_helpers_match_system_math()
    {
        var random = new Random(29);
        for (int i = 0; i < 100_000; i++)
        {
            double value = (random.NextDouble() - 0.5) * Math.Pow(2, random.Next(0, 60));
            if (i % 4 == 0) value = Math.Floor(value) + 0.5;
            Assert.Equal((long)Math.Round(value, MidpointRounding.ToEven), FloatingPointBits.RoundHalfToEven(value));
            Assert.Equal((long)Math.Round(value, MidpointRounding.AwayFromZero), FloatingPointBits.RoundHalfAwayFromZero(value));
        }
    }

    [Fact]
    public void Portable_exp_and_square_roots_match_system_math()
    {
        var random = new Random(31);
        double worstExp = 0;
        for (int i = 0; i < 100_000; i++)
        {
            double x = (random.NextDouble() - 0.5) * 80;
            worstExp = Math.Max(worstExp, Math.Abs(PortableMath.Exp(x) / Math.Exp(x) - 1));
            double positive = random.NextDouble() * Math.Pow(10, random.Next(-10, 12));
            Assert.Equal(Math.Sqrt(positive), PortableMath.SquareRoot(positive), Math.Sqrt(positive) * 1e-15);
            long integer = (long)(random.NextDouble() * Math.Pow(2, random.Next(1, 62)));
            long root = PortableMath.IntegerSquareRoot(integer);
            Assert.True(root * root <= integer && (root + 1) * (root + 1) > integer, $"isqrt({integer}) = {root}");
        }

        Assert.True(worstExp < 1e-14, $"exp relative error {worstExp}");
        Assert.Equal(0, PortableMath.IntegerSquareRoot(0));
        Assert.Equal(3037000499, PortableMath.IntegerSquareRoot(long.MaxValue));
    }

    [Theory]
    [InlineData(0.1, 0.1124629160182849)]
    [InlineData(0.5, 0.5204998778130465)]
    [InlineData(1.0, 0.8427007929497149)]
    [InlineData(2.0, 0.9953222650189527)]
    [InlineData(2.9, 0.9999589021219005)]
    [InlineData(3.0, 0.9999779095030014)]
    [InlineData(4.0, 0.9999999845827421)]
    [InlineData(5.0, 0.9999999999984626)]
    public void Portable_erf_matches_reference_values(double x, double expected)
    {
        // Reference values of erf (Abramowitz & Stegun table 7.1 / mpmath), odd symmetry checked too.
        Assert.Equal(expected, PortableMath.Erf(x), 1e-12);
        Assert.Equal(-expected, PortableMath.Erf(-x), 1e-12);
    }

    [Fact]
    public void Portable_erf_has_the_gaussian_derivative_everywhere()
    {
        for (double x = -6; x <= 6; x += 0.01)
        {
            const double h = 1e-5;
            double slope = (PortableMath.Erf(x + h) - PortableMath.Erf(x - h)) / (2 * h);
            Assert.Equal(2 / Math.Sqrt(Math.PI) * Math.Exp(-x * x), slope, 1e-8);
        }
    }

    [Fact]
    public void Quantization_parameters_round_trip_and_reject_bad_values()
    {
        var parameters = QuantizationParameters.FromRange(-1f, 3f);
        Assert.Equal(4f / 255f, parameters.Scale, 6);
        Assert.Equal(0f, parameters.Dequantize((sbyte)parameters.ZeroPoint));
        Assert.Equal((sbyte)127, parameters.Quantize(100f));
        Assert.Equal((sbyte)-128, parameters.Quantize(-100f));
        for (sbyte q = -128; q < 127; q++)
            Assert.Equal(q, parameters.Quantize(parameters.Dequantize(q)));
        Assert.Throws<ArgumentOutOfRangeException>(() => new QuantizationParameters(0f, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new QuantizationParameters(float.NaN, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new QuantizationParameters(0.1f, 128));
        Assert.Throws<ArgumentOutOfRangeException>(() => QuantizationParameters.FromRange(2f, 1f));
    }

    private static int RandomInt(Random random) => random.Next(4) switch
    {
        0 => int.MinValue + random.Next(3),
        1 => int.MaxValue - random.Next(3),
        _ => (int)random.NextInt64(int.MinValue, (long)int.MaxValue + 1),
    };

    private static BigInteger FloorDivide(BigInteger numerator, BigInteger denominator)
    {
        var quotient = BigInteger.DivRem(numerator, denominator, out var remainder);
        return remainder < 0 ? quotient - 1 : quotient;
    }
}
