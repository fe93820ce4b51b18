using CsCheck;
using EdgeLam.Contracts.Wire;

namespace EdgeLam.Contracts.Tests.Wire;

public sealed class Crc32Tests
{
    [Fact]
    public void Check_value_of_the_standard_test_string()
    {
        // "123456789" -> 0xCBF43926 is the published check value of CRC-32/ISO-HDLC (the IEEE 802.3 CRC).
        byte[] data = "123456789"u8.ToArray();
        Assert.Equal(0xCBF43926u, Crc32.Compute(data, 0, data.Length));
    }

    [Fact]
    public void Agrees_with_System_IO_Hashing_on_random_data_and_split_points() =>
        Gen.Select(Gen.Byte.Array[0, 300], Gen.Int[0, 300]).Sample((data, split) =>
        {
            uint expected = System.IO.Hashing.Crc32.HashToUInt32(data);
            Assert.Equal(expected, Crc32.Compute(data, 0, data.Length));
            int cut = Math.Min(split, data.Length);
            uint incremental = Crc32.Finish(Crc32.Append(Crc32.Append(Crc32.Start(), data, 0, cut), data, cut, data.Length - cut));
            Assert.Equal(expected, incremental);
        }, iter: 1_000);

    [Fact]
    public void Refuses_a_range_outside_the_array()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Crc32.Compute(new byte[4], 2, 3));
    }
}
