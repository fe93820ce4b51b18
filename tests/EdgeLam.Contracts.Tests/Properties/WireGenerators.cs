using CsCheck;
using EdgeLam.Contracts.Wire;

namespace EdgeLam.Contracts.Tests.Properties;

/// <summary>CsCheck generators of valid tensor frames, bundles and byte mutations.</summary>
public static class WireGenerators
{
    /// <summary>Shapes of rank 0..4 with dimensions 0..5 (small, so that thousands of samples stay fast).</summary>
    public static readonly Gen<int[]> Shape = Gen.Int[0, 4].SelectMany(rank => Gen.Int[0, 5].Array[rank]);

    /// <summary>Finite binary32 values from every exponent, including subnormals and negative zero.</summary>
    public static readonly Gen<float> FiniteFloat = Gen.UInt.Select(bits => (bits & 0x7F800000u) == 0x7F800000u ? bits & 0xBFFFFFFFu : bits)
        .Select(bits => BitConverter.Int32BitsToSingle((int)bits));

    /// <summary>Valid frames of every dtype and quantization kind.</summary>
    public static readonly Gen<TensorFrame> Frame = Gen.Select(Shape, Gen.Int[1, 5], Gen.Int[0, 2], Gen.Int[0, 7])
        .SelectMany(tuple => FrameOf(tuple.Item1, (TensorDataType)tuple.Item2, (QuantizationKind)tuple.Item3, tuple.Item4));

    /// <summary>Lists of (kind, position, value) mutations: overwrite, flip, truncate, insert, delete.</summary>
    public static readonly Gen<(int Kind, int Position, byte Value)[]> Mutations = Gen.Select(Gen.Int[0, 4], Gen.Int[0, int.MaxValue], Gen.Byte).Array[1, 4];

    /// <summary>A valid frame's bytes with 1..4 random mutations; with probability 1/2 the frame CRC is recomputed afterwards.</summary>
    public static readonly Gen<byte[]> MutatedFrameBytes = Gen.Select(Frame, Mutations, Gen.Bool)
        .Select(tuple => tuple.Item3 ? RecomputeFrameCrc(Mutate(TensorFrameCodec.Encode(tuple.Item1), tuple.Item2)) : Mutate(TensorFrameCodec.Encode(tuple.Item1), tuple.Item2));

    /// <summary>Valid bundles of 0..4 frames with a small JSON header.</summary>
    public static readonly Gen<TensorBundle> Bundle = Gen.Select(Frame.Array[0, 4], Gen.Int[0, 1000]).Select(tuple =>
    {
        var bundle = new TensorBundle(System.Text.Encoding.UTF8.GetBytes($"{{\"round\":{tuple.Item2}}}"));
        for (int i = 0; i < tuple.Item1.Length; i++)
        {
            bundle.Add($"layers.{i}.query.a", tuple.Item1[i]);
        }

        return bundle;
    });

    /// <summary>Applies mutations to a copy of <paramref name="data"/>.</summary>
    public static byte[] Mutate(byte[] data, (int Kind, int Position, byte Value)[] mutations)
    {
        List<byte> bytes = [.. data];
        foreach ((int kind, int position, byte value) in mutations)
        {
            int at = bytes.Count == 0 ? 0 : position % bytes.Count;
            switch (kind)
            {
                case 0 when bytes.Count > 0: bytes[at] = value; break;
                case 1 when bytes.Count > 0: bytes[at] ^= (byte)(1 << (value & 7)); break;
                case 2: bytes.RemoveRange(at, bytes.Count - at); break;
                case 3: bytes.Insert(at, value); break;
                case 4 when bytes.Count > 0: bytes.RemoveAt(at); break;
            }
        }

        return [.. bytes];
    }

    /// <summary>
    /// Rewrites the CRC field where the (possibly mutated) header says it is, over header and the remaining bytes,
    /// so that decoding gets past the checksum and exercises the later checks.
    /// </summary>
    public static byte[] RecomputeFrameCrc(byte[] data)
    {
        if (data.Length < TensorFrameCodec.FixedHeaderLength)
        {
            return data;
        }

        int rank = data[7];
        long position = TensorFrameCodec.FixedHeaderLength + (4L * rank);
        if (data[6] == 1)
        {
            position += 8;
        }
        else if (data[6] == 2 && position + 4 <= data.Length)
        {
            uint axis = BitConverter.ToUInt32(data, (int)position);
            long channels = axis < rank && position - (4L * rank) + (4L * axis) + 4 <= data.Length ? BitConverter.ToUInt32(data, TensorFrameCodec.FixedHeaderLength + (4 * (int)axis)) : 0;
            position += 4 + (8 * channels);
        }

        long crcPosition = position + 4;
        if (crcPosition + 4 > data.Length)
        {
            return data;
        }

        byte[] copy = [.. data];
        int payloadStart = (int)crcPosition + 4;
        uint crc = Crc32.Append(Crc32.Start(), copy, 0, (int)crcPosition);
        crc = Crc32.Append(crc, copy, payloadStart, copy.Length - payloadStart);
        LittleEndian.WriteUInt32(copy, (int)crcPosition, Crc32.Finish(crc));
        return copy;
    }

    private static Gen<TensorFrame> FrameOf(int[] shape, TensorDataType dataType, QuantizationKind quantization, int axisSeed)
    {
        int count = shape.Aggregate(1, (product, dimension) => product * dimension);
        bool integer = dataType is TensorDataType.Int8 or TensorDataType.UInt8 or TensorDataType.Int32;
        if (!integer || (quantization == QuantizationKind.PerChannel && shape.Length == 0))
        {
            quantization = QuantizationKind.None;
        }

        int axis = quantization == QuantizationKind.PerChannel ? axisSeed % shape.Length : 0;
        int channels = quantization switch
        {
            QuantizationKind.PerTensor => 1,
            QuantizationKind.PerChannel => shape[axis],
            _ => 0,
        };
        (int minimumZero, int maximumZero) = dataType switch
        {
            TensorDataType.Int8 => (-128, 127),
            TensorDataType.UInt8 => (0, 255),
            _ => (0, 0),
        };

        Gen<byte[]> payload = dataType switch
        {
            TensorDataType.Float32 => FiniteFloat.Array[count].Select(values => TensorFrame.FromFloats(values, shape).Payload),
            TensorDataType.Float16 => Gen.UShort.Select(bits => (bits & 0x7C00) == 0x7C00 ? (ushort)(bits & 0xBFFF) : bits).Array[count]
                .Select(values => values.SelectMany(BitConverter.GetBytes).ToArray()),
            TensorDataType.Int32 => Gen.Byte.Array[count * 4],
            _ => Gen.Byte.Array[count],
        };

        return Gen.Select(payload, Gen.Float[1e-6f, 100f].Array[channels], Gen.Int[minimumZero, maximumZero].Array[channels])
            .Select(parts => new TensorFrame(dataType, shape, quantization, axis, parts.Item2, parts.Item3, parts.Item1));
    }
}
