using System.Security.Cryptography;
using EdgeLam.Contracts.Wire;

namespace EdgeLam.Contracts.Tests.Wire;

/// <summary>The portable SHA-256 (used on the ESP32 and the downloader) agrees with .NET's for every padding case and chunking.</summary>
public sealed class Sha256Tests
{
    [Fact]
    public void Known_answer_of_abc_from_fips_180_4()
    {
        Assert.Equal("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", Sha256.HashHex("abc"u8.ToArray()));
    }

    [Fact]
    public void Every_length_up_to_three_blocks_hashes_as_system_security_cryptography_does()
    {
        var random = new Random(11);
        for (int length = 0; length <= 200; length++)
        {
            var data = new byte[length];
            random.NextBytes(data);
            Assert.Equal(SHA256.HashData(data), Sha256.Hash(data));
        }
    }

    [Fact]
    public void Appending_in_random_chunks_gives_the_digest_of_the_whole_and_finish_resets()
    {
        var random = new Random(5);
        var data = new byte[300_001];
        random.NextBytes(data);
        var hash = new Sha256();
        for (int offset = 0; offset < data.Length;)
        {
            int count = Math.Min(data.Length - offset, random.Next(0, 5000));
            hash.Append(data, offset, count);
            offset += count;
        }

        Assert.Equal(data.Length, hash.TotalBytes);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(data)), Sha256.ToHex(hash.Finish()));
        Assert.Equal(SHA256.HashData([]), hash.Finish());
    }

    [Fact]
    public void Out_of_range_chunk_is_refused_by_name()
    {
        Assert.Equal("count", Assert.Throws<ArgumentOutOfRangeException>(() => new Sha256().Append(new byte[4], 2, 3)).ParamName);
    }
}
