namespace EdgeLam.Contracts.Wire
{
    /// <summary>
    /// Binary tensor frame, version 1 (WIRE.md, "Tensor frame"), all fields little-endian:
    /// magic "ELTF", version u8, dtype u8, quantization u8, rank u8, dims u32[rank],
    /// quantization block (per-tensor: scale f32, zero point i32; per-channel: axis u32, scales f32[n],
    /// zero points i32[n]), payload length u32, CRC-32 u32 (over every preceding byte and the payload), payload.
    /// </summary>
    public static class TensorFrameCodec
    {
        /// <summary>First four bytes of a frame: ASCII "ELTF" (EdgeLam tensor frame).</summary>
        public static readonly byte[] Magic = new byte[] { 0x45, 0x4C, 0x54, 0x46 };

        /// <summary>The version this codec writes and reads.</summary>
        public const int Version = 1;

        /// <summary>Bytes before the dims: magic, version, dtype, quantization, rank.</summary>
        public const int FixedHeaderLength = 8;

        /// <summary>Encoded size of a frame in bytes.</summary>
        public static int EncodedLength(TensorFrame frame)
        {
            return HeaderLength(frame) + frame.Payload.Length;
        }

        /// <summary>Encodes a frame into a new array.</summary>
        public static byte[] Encode(TensorFrame frame)
        {
            byte[] data = new byte[EncodedLength(frame)];
            EncodeTo(frame, data, 0);
            return data;
        }

        /// <summary>Encodes a frame at <paramref name="offset"/>; returns the bytes written.</summary>
        public static int EncodeTo(TensorFrame frame, byte[] destination, int offset)
        {
            if (frame == null)
            {
                throw new System.ArgumentNullException(nameof(frame));
            }

            int length = EncodedLength(frame);
            if (destination == null || offset < 0 || offset > destination.Length - length)
            {
                throw new System.ArgumentException("destination has no room for " + length.ToString() + " bytes at " + offset.ToString(), nameof(destination));
            }

            int position = offset;
            for (int i = 0; i < 4; i++)
            {
                destination[position + i] = Magic[i];
            }

            destination[position + 4] = (byte)Version;
            destination[position + 5] = (byte)frame.DataType;
            destination[position + 6] = (byte)frame.Quantization;
            destination[position + 7] = (byte)frame.Shape.Length;
            position += FixedHeaderLength;
            for (int i = 0; i < frame.Shape.Length; i++)
            {
                LittleEndian.WriteUInt32(destination, position, (uint)frame.Shape[i]);
                position += 4;
            }

            if (frame.Quantization == QuantizationKind.PerTensor)
            {
                LittleEndian.WriteSingle(destination, position, frame.Scales[0]);
                LittleEndian.WriteInt32(destination, position + 4, frame.ZeroPoints[0]);
                position += 8;
            }
            else if (frame.Quantization == QuantizationKind.PerChannel)
            {
                LittleEndian.WriteUInt32(destination, position, (uint)frame.QuantizationAxis);
                position += 4;
                for (int i = 0; i < frame.Scales.Length; i++)
                {
                    LittleEndian.WriteSingle(destination, position, frame.Scales[i]);
                    position += 4;
                }

                for (int i = 0; i < frame.ZeroPoints.Length; i++)
                {
                    LittleEndian.WriteInt32(destination, position, frame.ZeroPoints[i]);
                    position += 4;
                }
            }

            byte[] payload = frame.Payload;
            LittleEndian.WriteUInt32(destination, position, (uint)payload.Length);
            position += 4;
            uint crc = Crc32.Start();
            crc = Crc32.Append(crc, destination, offset, position - offset);
            crc = Crc32.Append(crc, payload, 0, payload.Length);
            LittleEndian.WriteUInt32(destination, position, Crc32.Finish(crc));
            position += 4;
            System.Array.Copy(payload, 0, destination, position, payload.Length);
            return length;
        }

        /// <summary>Decodes a frame that fills <paramref name="data"/> exactly.</summary>
        public static TensorFrame Decode(byte[] data)
        {
            if (data == null)
            {
                throw new System.ArgumentNullException(nameof(data));
            }

            return Decode(data, 0, data.Length);
        }

        /// <summary>
        /// Decodes a frame that fills <paramref name="count"/> bytes at <paramref name="offset"/> exactly. Any
        /// defect throws <see cref="WireFormatException"/>; checks run in WIRE.md's order (structure, sizes, CRC, values).
        /// </summary>
        public static TensorFrame Decode(byte[] data, int offset, int count)
        {
            if (data == null)
            {
                throw new System.ArgumentNullException(nameof(data));
            }

            if (offset < 0 || count < 0 || offset > data.Length - count)
            {
                throw new System.ArgumentOutOfRangeException(nameof(count));
            }

            int end = offset + count;
            RequireBytes(offset, 4, end, "magic");
            for (int i = 0; i < 4; i++)
            {
                if (data[offset + i] != Magic[i])
                {
                    throw new WireFormatException(WireErrorCode.BadMagic, "magic", "not a tensor frame (expected \"ELTF\")");
                }
            }

            RequireBytes(offset, FixedHeaderLength, end, "header");
            int version = data[offset + 4];
            if (version != Version)
            {
                throw new WireFormatException(WireErrorCode.UnsupportedVersion, "version", "frame version " + version.ToString() + " (this codec reads " + Version.ToString() + ")");
            }

            int dtype = data[offset + 5];
            if (dtype < (int)TensorDataType.Float32 || dtype > (int)TensorDataType.Int32)
            {
                throw new WireFormatException(WireErrorCode.UnknownDtype, "dtype", "unknown dtype " + dtype.ToString());
            }

            TensorDataType dataType = (TensorDataType)dtype;
            int quantizationByte = data[offset + 6];
            if (quantizationByte > (int)QuantizationKind.PerChannel)
            {
                throw new WireFormatException(WireErrorCode.BadQuantization, "quantization", "unknown quantization kind " + quantizationByte.ToString());
            }

            QuantizationKind quantization = (QuantizationKind)quantizationByte;
            int rank = data[offset + 7];
            if (rank > WireLimits.MaxRank)
            {
                throw new WireFormatException(WireErrorCode.Oversize, "rank", "rank " + rank.ToString() + " exceeds " + WireLimits.MaxRank.ToString());
            }

            int position = offset + FixedHeaderLength;
            RequireBytes(position, 4 * rank, end, "shape");
            int[] shape = new int[rank];
            for (int i = 0; i < rank; i++)
            {
                uint dimension = LittleEndian.ReadUInt32(data, position);
                if (dimension > WireLimits.MaxElementCount)
                {
                    throw new WireFormatException(WireErrorCode.Oversize, "shape", "dimension " + i.ToString() + " is " + dimension.ToString());
                }

                shape[i] = (int)dimension;
                position += 4;
            }

            int elementCount = TensorFrame.CountElements(shape);

            int axis = 0;
            float[] scales = new float[0];
            int[] zeroPoints = new int[0];
            if (quantization != QuantizationKind.None)
            {
                int channels = 1;
                if (quantization == QuantizationKind.PerChannel)
                {
                    RequireBytes(position, 4, end, "quantization.axis");
                    uint axisValue = LittleEndian.ReadUInt32(data, position);
                    if (axisValue >= (uint)rank)
                    {
                        throw new WireFormatException(WireErrorCode.BadQuantization, "quantization.axis", "axis " + axisValue.ToString() + " outside rank " + rank.ToString());
                    }

                    axis = (int)axisValue;
                    channels = shape[axis];
                    position += 4;
                }

                RequireBytes(position, 8 * channels, end, "quantization");
                scales = new float[channels];
                zeroPoints = new int[channels];
                for (int i = 0; i < channels; i++)
                {
                    scales[i] = LittleEndian.ReadSingle(data, position + (4 * i));
                    zeroPoints[i] = LittleEndian.ReadInt32(data, position + (4 * channels) + (4 * i));
                }

                position += 8 * channels;
            }

            RequireBytes(position, 8, end, "payload length and CRC");
            uint payloadLength = LittleEndian.ReadUInt32(data, position);
            uint storedCrc = LittleEndian.ReadUInt32(data, position + 4);
            if (payloadLength > WireLimits.MaxPayloadBytes)
            {
                throw new WireFormatException(WireErrorCode.Oversize, "payload", "payload of " + payloadLength.ToString() + " bytes exceeds " + WireLimits.MaxPayloadBytes.ToString());
            }

            long expectedLength = (long)elementCount * TensorFrame.ElementSizeOf(dataType);
            if (payloadLength != expectedLength)
            {
                throw new WireFormatException(
                    WireErrorCode.ShapePayloadMismatch,
                    "payload",
                    "shape " + TensorFrame.ShapeText(shape) + " of " + TensorFrame.DataTypeName(dataType) + " needs " + expectedLength.ToString() + " bytes but the frame declares " + payloadLength.ToString());
            }

            int payloadStart = position + 8;
            RequireBytes(payloadStart, (int)payloadLength, end, "payload");
            uint crc = Crc32.Start();
            crc = Crc32.Append(crc, data, offset, position + 4 - offset);
            crc = Crc32.Append(crc, data, payloadStart, (int)payloadLength);
            uint computedCrc = Crc32.Finish(crc);
            if (computedCrc != storedCrc)
            {
                throw new WireFormatException(WireErrorCode.CrcMismatch, "crc", "stored 0x" + storedCrc.ToString("x8") + ", computed 0x" + computedCrc.ToString("x8"));
            }

            int frameEnd = payloadStart + (int)payloadLength;
            if (frameEnd != end)
            {
                throw new WireFormatException(WireErrorCode.TrailingData, "frame", (end - frameEnd).ToString() + " bytes follow the frame");
            }

            byte[] payload = new byte[payloadLength];
            System.Array.Copy(data, payloadStart, payload, 0, (int)payloadLength);
            return new TensorFrame(dataType, shape, quantization, axis, scales, zeroPoints, payload);
        }

        private static int HeaderLength(TensorFrame frame)
        {
            int length = FixedHeaderLength + (4 * frame.Shape.Length) + 8;
            if (frame.Quantization == QuantizationKind.PerTensor)
            {
                length += 8;
            }
            else if (frame.Quantization == QuantizationKind.PerChannel)
            {
                length += 4 + (8 * frame.Scales.Length);
            }

            return length;
        }

        private static void RequireBytes(int position, int needed, int end, string part)
        {
            if (needed > end - position)
            {
                throw new WireFormatException(WireErrorCode.Truncated, part, "needs " + needed.ToString() + " bytes, " + (end - position).ToString() + " left");
            }
        }
    }
}
