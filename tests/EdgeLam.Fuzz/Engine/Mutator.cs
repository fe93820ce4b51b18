using System.Buffers.Binary;
using System.Text;

namespace EdgeLam.Fuzz.Engine;

/// <summary>
/// Havoc-style byte mutations after AFL's deterministic and havoc stages (Zalewski, "AFL technical details"):
/// bit flips, random bytes, insertion and deletion, splicing two inputs, "interesting" integers, tweaks of
/// plausible length fields, chunk duplication, truncation and dictionary tokens of the formats under test.
/// </summary>
public sealed class Mutator(Random random, int maximumBytes)
{
    private static readonly long[] InterestingValues =
        [0, 1, -1, 2, 7, 8, 15, 16, 31, 32, 63, 64, 100, 127, 128, 255, 256, 512, 1000, 1024, 4096, 32767, 32768, 65535, 65536,
         100_000, 1 << 20, 16 * 1024 * 1024, 64 * 1024 * 1024, int.MaxValue, int.MinValue, uint.MaxValue, long.MaxValue, long.MinValue];

    private static readonly byte[][] Tokens =
    [
        .. new[]
        {
            "{", "}", "[", "]", "\"", ":", ",", "\\", "\\u0000", "\\ud800", "null", "true", "false", "-0", "1e999", "-1e-999",
            "123456789012345678901234567890", "\"round\":", "\"layers\":[", "\"rank\":", "\"precision\":\"int8\"", "NaN", "Infinity",
            "edgelam/v1/", "+", "#", "ELTF", "ELTB",
        }.Select(Encoding.UTF8.GetBytes),
        [0xC0, 0x80], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xFF, 0xFF, 0xFF, 0x7F], [0x80, 0x80, 0x80, 0x80, 0x01],
        [0x00, 0x00, 0xC0, 0x7F], [0x00, 0x00, 0x80, 0x7F], [0x00, 0x7E], [0x00, 0x7C],
    ];

    /// <summary>A mutated copy of <paramref name="input"/>: one to six stacked mutations, <paramref name="other"/> for splicing.</summary>
    public byte[] Mutate(byte[] input, byte[] other)
    {
        var data = new List<byte>(input);
        var count = 1 + random.Next(6);
        for (var i = 0; i < count; i++) MutateOnce(data, other);
        if (data.Count > maximumBytes) data.RemoveRange(maximumBytes, data.Count - maximumBytes);
        return [.. data];
    }

    private void MutateOnce(List<byte> data, byte[] other)
    {
        switch (random.Next(11))
        {
            case 0 when data.Count > 0:
                data[Position(data)] ^= (byte)(1 << random.Next(8));
                break;
            case 1 when data.Count > 0:
                data[Position(data)] = (byte)random.Next(256);
                break;
            case 2:
                var inserted = new byte[1 + random.Next(random.Next(2) == 0 ? 4 : 32)];
                if (random.Next(2) == 0) random.NextBytes(inserted);
                else Array.Fill(inserted, data.Count > 0 ? data[Position(data)] : (byte)0);
                data.InsertRange(random.Next(data.Count + 1), inserted);
                break;
            case 3 when data.Count > 1:
                var start = Position(data);
                data.RemoveRange(start, Math.Min(data.Count - start, 1 + random.Next(16)));
                break;
            case 4 when other.Length > 0:
                Splice(data, other);
                break;
            case 5 when data.Count > 0:
                WriteInteger(data, Position(data), InterestingValues[random.Next(InterestingValues.Length)]);
                break;
            case 6 when data.Count >= 4:
                TweakLengthField(data);
                break;
            case 7 when data.Count > 1:
                var from = Position(data);
                var length = Math.Min(data.Count - from, 1 + random.Next(64));
                data.InsertRange(random.Next(data.Count + 1), data.GetRange(from, length));
                break;
            case 8 when data.Count > 0:
                var kept = random.Next(data.Count);
                data.RemoveRange(kept, data.Count - kept);
                break;
            case 9:
                var token = Tokens[random.Next(Tokens.Length)];
                if (data.Count > token.Length && random.Next(2) == 0)
                {
                    var at = random.Next(data.Count - token.Length + 1);
                    for (var i = 0; i < token.Length; i++) data[at + i] = token[i];
                }
                else
                {
                    data.InsertRange(random.Next(data.Count + 1), token);
                }

                break;
            default:
                if (data.Count > 0) data[Position(data)] = (byte)(data[Position(data)] + random.Next(-35, 36));
                break;
        }
    }

    /// <summary>Keeps a prefix of one input and appends a suffix of the other (AFL's splice), or swaps in a chunk.</summary>
    private void Splice(List<byte> data, byte[] other)
    {
        var otherStart = random.Next(other.Length);
        if (random.Next(2) == 0)
        {
            var cut = random.Next(data.Count + 1);
            data.RemoveRange(cut, data.Count - cut);
            data.AddRange(other.AsSpan(otherStart).ToArray());
        }
        else
        {
            var length = Math.Min(other.Length - otherStart, 1 + random.Next(64));
            data.InsertRange(random.Next(data.Count + 1), other.AsSpan(otherStart, length).ToArray());
        }
    }

    /// <summary>
    /// Finds 8-, 16- or 32-bit fields whose value could be a length (at most the bytes that follow) and moves them
    /// just past the boundary, onto it, to zero or to huge: the off-by-one and overflow cases of length checks.
    /// </summary>
    private void TweakLengthField(List<byte> data)
    {
        var width = random.Next(3) switch { 0 => 1, 1 => 2, _ => 4 };
        var bigEndian = width == 2 && random.Next(2) == 0; // MQTT string and identifier lengths are big-endian
        var candidates = new List<int>();
        for (var position = 0; position + width <= data.Count; position++)
        {
            var value = ReadUnsigned(data, position, width, bigEndian);
            if (value > 0 && value <= data.Count - position) candidates.Add(position);
        }

        var at = candidates.Count > 0 ? candidates[random.Next(candidates.Count)] : random.Next(data.Count - width + 1);
        var current = ReadUnsigned(data, at, width, bigEndian);
        var remaining = data.Count - at - width;
        long replacement = random.Next(8) switch
        {
            0 => current + 1,
            1 => current - 1,
            2 => remaining,
            3 => remaining + 1,
            4 => 0,
            5 => current * 2,
            6 => current + random.Next(1, 256),
            _ => (1L << (8 * width)) - 1,
        };
        WriteUnsigned(data, at, width, bigEndian, replacement);
    }

    private void WriteInteger(List<byte> data, int position, long value)
    {
        var width = random.Next(4) switch { 0 => 1, 1 => 2, 2 => 4, _ => 8 };
        WriteUnsigned(data, position, width, random.Next(2) == 0, value);
    }

    private static long ReadUnsigned(List<byte> data, int position, int width, bool bigEndian)
    {
        long value = 0;
        for (var i = 0; i < width; i++)
        {
            var index = bigEndian ? position + i : position + width - 1 - i;
            value = (value << 8) | data[index];
        }

        return value;
    }

    private static void WriteUnsigned(List<byte> data, int position, int width, bool bigEndian, long value)
    {
        Span<byte> bytes = stackalloc byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(bytes, value);
        for (var i = 0; i < width; i++)
        {
            var index = position + (bigEndian ? width - 1 - i : i);
            if (index < data.Count) data[index] = bytes[i];
            else data.Add(bytes[i]);
        }
    }

    private int Position(List<byte> data) => random.Next(data.Count);
}
