using CsCheck;
using EdgeLam.Contracts.Wire;

namespace EdgeLam.Contracts.Tests.Wire;

public sealed class HalfPrecisionTests
{
    [Fact]
    public void Every_half_widens_exactly_as_System_Half()
    {
        for (int bits = 0; bits <= ushort.MaxValue; bits++)
        {
            float expected = (float)BitConverter.UInt16BitsToHalf((ushort)bits);
            float actual = HalfPrecision.ToSingle((ushort)bits);
            if (float.IsNaN(expected))
            {
                Assert.True(float.IsNaN(actual), $"0x{bits:x4} must widen to NaN");
            }
            else
            {
                Assert.Equal(BitConverter.SingleToInt32Bits(expected), BitConverter.SingleToInt32Bits(actual));
            }
        }
    }

    [Fact]
    public void Every_half_survives_narrowing_after_widening()
    {
        for (int bits = 0; bits <= ushort.MaxValue; bits++)
        {
            if (HalfPrecision.IsFinite((ushort)bits) || (bits & 0x3FF) == 0)
            {
                Assert.Equal((ushort)bits, HalfPrecision.FromSingle(HalfPrecision.ToSingle((ushort)bits)));
            }
        }
    }

    [Fact]
    public void Narrowing_rounds_to_nearest_even_as_System_Half_for_any_float() =>
        Gen.UInt.Sample(bits =>
        {
            float value = BitConverter.Int32BitsToSingle((int)bits);
            ushort expected = BitConverter.HalfToUInt16Bits((Half)value);
            ushort actual = HalfPrecision.FromSingle(value);
            if (float.IsNaN(value))
            {
                Assert.False(HalfPrecision.IsFinite(actual));
                Assert.NotEqual(0, actual & 0x3FF);
            }
            else
            {
                Assert.Equal(expected, actual);
            }
        }, iter: 200_000);

    [Theory]
    [InlineData(1.0f, 0x3C00)]
    [InlineData(65504f, 0x7BFF)]
    [InlineData(65520f, 0x7C00)] // halfway to the next (non-existent) value rounds to even: infinity
    [InlineData(5.9604645e-8f, 0x0001)]
    [InlineData(2.9802322e-8f, 0x0000)] // exactly half the smallest subnormal ties to even zero
    [InlineData(-0f, 0x8000)]
    [InlineData(1.00048828125f, 0x3C00)] // 1 + 2^-11 ties to even mantissa
    [InlineData(1.00146484375f, 0x3C02)] // 1 + 3 * 2^-11 ties to even mantissa upward
    public void Documented_rounding_cases(float value, int expected)
    {
        Assert.Equal((ushort)expected, HalfPrecision.FromSingle(value));
    }
}
