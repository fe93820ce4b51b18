namespace EdgeLam.Firmware.Quantization;

/// <summary>
/// Exact integer views of IEEE-754 numbers and integer rounding shifts. nanoFramework has no System.Math, so
/// frexp, rounding and the emulation of float32 arithmetic are done on the bits (BitConverter.DoubleToInt64Bits).
/// </summary>
public static class FloatingPointBits
{
    /// <summary>
    /// Writes a finite positive double as significand · 2^exponent with an integer significand
    /// (53 bits for normal numbers, fewer for subnormals). Zero gives significand 0.
    /// </summary>
    public static void Decompose(double value, out long significand, out int exponent)
    {
        if (double.IsNaN(value) || double.IsInfinity(value) || value < 0)
        {
            throw new System.ArgumentOutOfRangeException(nameof(value), "Only finite non-negative numbers decompose, got " + value.ToString() + ".");
        }

        long bits = System.BitConverter.DoubleToInt64Bits(value);
        int biasedExponent = (int)((bits >> 52) & 0x7FF);
        long fraction = bits & ((1L << 52) - 1);
        if (biasedExponent == 0)
        {
            significand = fraction;
            exponent = -1074;
            return;
        }

        significand = fraction | (1L << 52);
        exponent = biasedExponent - 1075;
    }

    /// <summary>Number of significant bits of a non-negative value (0 for 0).</summary>
    public static int BitLength(long value)
    {
        int length = 0;
        if (value >= 1L << 32) { value >>= 32; length += 32; }
        if (value >= 1L << 16) { value >>= 16; length += 16; }
        if (value >= 1L << 8) { value >>= 8; length += 8; }
        if (value >= 1L << 4) { value >>= 4; length += 4; }
        if (value >= 1L << 2) { value >>= 2; length += 2; }
        if (value >= 1L << 1) { value >>= 1; length += 1; }
        return length + (int)value;
    }

    /// <summary>value / 2^shift for a non-negative value, rounded to nearest, ties to even (IEEE-754 default).</summary>
    public static long ShiftRightRoundHalfToEven(long value, int shift)
    {
        if (shift <= 0)
        {
            return value << -shift;
        }

        if (shift > 62)
        {
            return 0;
        }

        long quotient = value >> shift;
        long remainder = value & ((1L << shift) - 1);
        long half = 1L << (shift - 1);
        if (remainder > half || (remainder == half && (quotient & 1) == 1))
        {
            quotient++;
        }

        return quotient;
    }

    /// <summary>value / 2^shift for a non-negative value, rounded to nearest, ties away from zero (C round()).</summary>
    public static long ShiftRightRoundHalfAwayFromZero(long value, int shift)
    {
        if (shift <= 0)
        {
            return value << -shift;
        }

        if (shift > 62)
        {
            return 0;
        }

        return (value + (1L << (shift - 1))) >> shift;
    }

    /// <summary>Rounds to the nearest integer, ties to even, for |value| below 2^62.</summary>
    public static long RoundHalfToEven(double value)
    {
        return RoundWith(value, true);
    }

    /// <summary>Rounds to the nearest integer, ties away from zero (C round(), TFLite TfLiteRound), for |value| below 2^62.</summary>
    public static long RoundHalfAwayFromZero(double value)
    {
        return RoundWith(value, false);
    }

    private static long RoundWith(double value, bool tiesToEven)
    {
        if (double.IsNaN(value) || double.IsInfinity(value) || value >= 4.611686018427388E18 || value <= -4.611686018427388E18)
        {
            throw new System.ArgumentOutOfRangeException(nameof(value), "Cannot round " + value.ToString() + " to a 64-bit integer.");
        }

        bool negative = value < 0;
        long significand;
        int exponent;
        Decompose(negative ? -value : value, out significand, out exponent);
        long magnitude = tiesToEven
            ? ShiftRightRoundHalfToEven(significand, -exponent)
            : ShiftRightRoundHalfAwayFromZero(significand, -exponent);
        return negative ? -magnitude : magnitude;
    }
}
