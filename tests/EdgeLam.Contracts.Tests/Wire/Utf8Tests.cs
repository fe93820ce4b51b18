using System.Text;
using CsCheck;
using EdgeLam.Contracts.Wire;

namespace EdgeLam.Contracts.Tests.Wire;

public sealed class Utf8Tests
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    [Fact]
    public void Decoding_accepts_and_refuses_exactly_what_a_strict_UTF8Encoding_does() =>
        Gen.Frequency((1, Gen.Byte), (1, Gen.Byte[0x80, 0xF5])).Array[0, 12].Sample(data =>
        {
            string? expected;
            try
            {
                expected = StrictUtf8.GetString(data);
            }
            catch (DecoderFallbackException)
            {
                expected = null;
            }

            if (expected is null)
            {
                WireFormatException error = Assert.Throws<WireFormatException>(() => Utf8.Decode(data, 0, data.Length));
                Assert.Equal(WireErrorCode.InvalidUtf8, error.Code);
            }
            else
            {
                Assert.Equal(expected, Utf8.Decode(data, 0, data.Length));
            }
        }, iter: 20_000);

    [Fact]
    public void Encoding_matches_UTF8Encoding_for_valid_text() =>
        Gen.Int[0, 0x10FFFF].Where(codePoint => codePoint is < 0xD800 or > 0xDFFF).Array[0, 8]
            .Select(codePoints => string.Concat(codePoints.Select(char.ConvertFromUtf32)))
            .Sample(text => Assert.Equal(StrictUtf8.GetBytes(text), Utf8.Encode(text)), iter: 5_000);

    [Fact]
    public void Encoding_refuses_a_lone_surrogate()
    {
        Assert.Throws<ArgumentException>(() => Utf8.Encode("a\uD800b"));
    }
}
