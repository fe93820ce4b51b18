namespace EdgeLam.Firmware.Quantization;

/// <summary>
/// Integer requantization arithmetic of TensorFlow Lite / CMSIS-NN (gemmlowp fixed point): a real multiplier
/// is stored as an int32 Q0.31 significand and a power-of-two shift, and applied with
/// SaturatingRoundingDoublingHighMul followed by RoundingDivideByPOT. The one place the kernels take it from.
/// </summary>
public static class FixedPointArithmetic
{
    /// <summary>Smallest int8 value.</summary>
    public const int Int8Minimum = -128;

    /// <summary>Largest int8 value.</summary>
    public const int Int8Maximum = 127;

    /// <summary>
    /// Splits a non-negative real multiplier into <paramref name="quantizedMultiplier"/> (Q0.31, in [2^30, 2^31))
    /// and <paramref name="shift"/> so that real ≈ quantizedMultiplier · 2^(shift − 31); TFLite's QuantizeMultiplier
    /// (frexp, round half away from zero, carry into the exponent, flush below 2^-31 to zero), done on the bits of the double.
    /// </summary>
    public static void QuantizeMultiplier(double realMultiplier, out int quantizedMultiplier, out int shift)
    {
        if (double.IsNaN(realMultiplier) || double.IsInfinity(realMultiplier) || realMultiplier < 0)
        {
            throw new System.ArgumentOutOfRangeException(nameof(realMultiplier), "A requantization multiplier must be a finite non-negative number, got " + realMultiplier.ToString() + ".");
        }

        if (realMultiplier == 0)
        {
            quantizedMultiplier = 0;
            shift = 0;
            return;
        }

        long significand;
        int exponent;
        FloatingPointBits.Decompose(realMultiplier, out significand, out exponent);
        // frexp: real = fraction · 2^shift with fraction in [0.5, 1); the 53-bit significand is fraction · 2^53.
        int bitLength = FloatingPointBits.BitLength(significand);
        int frexpShift = exponent + bitLength;
        // fraction · 2^31 rounded half away from zero, from the exact integer significand.
        long rounded = FloatingPointBits.ShiftRightRoundHalfAwayFromZero(significand, bitLength - 31);
        if (rounded == 1L << 31)
        {
            rounded /= 2;
            frexpShift++;
        }

        if (frexpShift < -31)
        {
            quantizedMultiplier = 0;
            shift = 0;
            return;
        }

        if (frexpShift > 30)
        {
            throw new System.ArgumentOutOfRangeException(nameof(realMultiplier), "A requantization multiplier must be below 2^30, got " + realMultiplier.ToString() + ".");
        }

        quantizedMultiplier = (int)rounded;
        shift = frexpShift;
    }

    /// <summary>gemmlowp SaturatingRoundingDoublingHighMul: the high 32 bits of 2·a·b, rounded, saturating the single overflow case.</summary>
    public static int SaturatingRoundingDoublingHighMul(int a, int b)
    {
        if (a == int.MinValue && b == int.MinValue)
        {
            return int.MaxValue;
        }

        long product = (long)a * b;
        long nudge = product >= 0 ? 1L << 30 : 1 - (1L << 30);
        // Division truncates toward zero, exactly as the C++ original.
        return (int)((product + nudge) / (1L << 31));
    }

    /// <summary>gemmlowp RoundingDivideByPOT: x / 2^exponent rounded to nearest, ties away from zero.</summary>
    public static int RoundingDivideByPowerOfTwo(int x, int exponent)
    {
        if (exponent < 0 || exponent > 31)
        {
            throw new System.ArgumentOutOfRangeException(nameof(exponent), "A power-of-two divisor exponent must be in [0, 31], got " + exponent.ToString() + ".");
        }

        int mask = (int)((1L << exponent) - 1);
        int remainder = x & mask;
        int threshold = (mask >> 1) + (x < 0 ? 1 : 0);
        return (x >> exponent) + (remainder > threshold ? 1 : 0);
    }

    /// <summary>TFLite MultiplyByQuantizedMultiplier: x · multiplier · 2^(shift − 31) with gemmlowp rounding.</summary>
    public static int MultiplyByQuantizedMultiplier(int x, int quantizedMultiplier, int shift)
    {
        int leftShift = shift > 0 ? shift : 0;
        int rightShift = shift > 0 ? 0 : -shift;
        return RoundingDivideByPowerOfTwo(SaturatingRoundingDoublingHighMul(x * (1 << leftShift), quantizedMultiplier), rightShift);
    }

    /// <summary>Clamps to the int8 range.</summary>
    public static sbyte SaturateToInt8(int value)
    {
        if (value < Int8Minimum)
        {
            return Int8Minimum;
        }

        return value > Int8Maximum ? (sbyte)Int8Maximum : (sbyte)value;
    }

    /// <summary>Clamps to the int8 range.</summary>
    public static sbyte SaturateToInt8(long value)
    {
        if (value < Int8Minimum)
        {
            return Int8Minimum;
        }

        return value > Int8Maximum ? (sbyte)Int8Maximum : (sbyte)value;
    }
}
