namespace EdgeLam.Model.Quantization;

/// <summary>
/// Integer-only rescaling of an int32 accumulator by a real multiplier M = m · 2^(shift − 31),
/// m a Q31 value in [2^30, 2^31). The arithmetic of TFLite's QuantizeMultiplier /
/// MultiplyByQuantizedMultiplier and CMSIS-NN's arm_nn_requantize (gemmlowp rounding).
/// </summary>
public static class FixedPointRequantization
{
    /// <summary>Splits <paramref name="realMultiplier"/> (positive) into a Q31 multiplier and a power-of-two shift.</summary>
    public static (int Multiplier, int Shift) QuantizeMultiplier(double realMultiplier)
    {
        if (!(realMultiplier > 0) || !double.IsFinite(realMultiplier))
            throw new ArgumentOutOfRangeException(nameof(realMultiplier), realMultiplier, "A requantization multiplier must be positive and finite.");
        var shift = (int)Math.Floor(Math.Log2(realMultiplier)) + 1;
        var fraction = realMultiplier / Math.Pow(2, shift); // in [0.5, 1)
        var q = (long)Math.Round(fraction * (1L << 31), MidpointRounding.AwayFromZero);
        if (q == 1L << 31)
        {
            q /= 2;
            shift++;
        }
        if (shift < -31)
            return (0, 0);
        return ((int)q, shift);
    }

    /// <summary>TFLite MultiplyByQuantizedMultiplier: round(x · m · 2^(shift − 31)) with gemmlowp rounding.</summary>
    public static int MultiplyByQuantizedMultiplier(int x, int multiplier, int shift)
    {
        var leftShift = shift > 0 ? shift : 0;
        var rightShift = shift > 0 ? 0 : -shift;
        return RoundingDivideByPowerOfTwo(SaturatingRoundingDoublingHighMultiply(x * (1 << leftShift), multiplier), rightShift);
    }

    /// <summary>gemmlowp SaturatingRoundingDoublingHighMul: (a·b·2 + 2^31 rounding) >> 32, saturating the one overflow case.</summary>
    public static int SaturatingRoundingDoublingHighMultiply(int a, int b)
    {
        if (a == int.MinValue && b == int.MinValue)
            return int.MaxValue;
        var product = (long)a * b;
        var nudge = product >= 0 ? 1L << 30 : 1 - (1L << 30);
        return (int)((product + nudge) / (1L << 31));
    }

    /// <summary>gemmlowp RoundingDivideByPOT: x / 2^exponent rounded to nearest, ties away from zero.</summary>
    public static int RoundingDivideByPowerOfTwo(int x, int exponent)
    {
        if (exponent is < 0 or > 31)
            throw new ArgumentOutOfRangeException(nameof(exponent), exponent, "Shift must be in [0, 31].");
        var mask = (int)((1L << exponent) - 1);
        var remainder = x & mask;
        var threshold = (mask >> 1) + (x < 0 ? 1 : 0);
        return (x >> exponent) + (remainder > threshold ? 1 : 0);
    }
}
