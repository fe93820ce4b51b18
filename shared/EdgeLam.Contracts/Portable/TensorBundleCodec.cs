namespace EdgeLam.Contracts.Wire
{
    /// <summary>
    /// Tensor bundle, version 1 (WIRE.md, "Tensor bundle"), little-endian: magic "ELTB", version u8, flags u8 (0),
    /// frame count u16, header length u32, header (UTF-8 JSON object), then per frame: name length u8,
    /// name (ASCII), frame length u32, tensor frame; finally CRC-32 u32 over every preceding byte.
    /// </summary>
    public static class TensorBundleCodec
    {
        /// <summary>First four bytes of a bundle: ASCII "ELTB" (EdgeLam tensor bundle).</summary>
        public static readonly byte[] Magic = new byte[] { 0x45, 0x4C, 0x54, 0x42 };

        /// <summary>The version this codec writes and reads.</summary>
        public const int Version = 1;

        /// <summary>Bytes before the header: magic, version, flags, frame count, header length.</summary>
        public const int FixedHeaderLength = 12;

        /// <summary>Encodes a bundle into a new array.</summary>
        public static byte[] Encode(TensorBundle bundle)
        {
            if (bundle == null)
            {
                throw new System.ArgumentNullException(nameof(bundle));
            }

            long total = FixedHeaderLength + bundle.HeaderJson.Length + 4;
            for (int i = 0; i < bundle.Count; i++)
            {
                total += 1 + bundle.GetName(i).Length + 4 + TensorFrameCodec.EncodedLength(bundle.GetFrame(i));
            }

            if (total > WireLimits.MaxBundleBytes)
            {
                throw new WireFormatException(WireErrorCode.Oversize, "bundle", total.ToString() + " bytes exceed " + WireLimits.MaxBundleBytes.ToString());
            }

            if (bundle.HeaderJson.Length > WireLimits.MaxJsonBytes)
            {
                throw new WireFormatException(WireErrorCode.Oversize, "header", bundle.HeaderJson.Length.ToString() + " header bytes exceed " + WireLimits.MaxJsonBytes.ToString());
            }

            byte[] data = new byte[total];
            for (int i = 0; i < 4; i++)
            {
                data[i] = Magic[i];
            }

            data[4] = (byte)Version;
            data[5] = 0;
            LittleEndian.WriteUInt16(data, 6, bundle.Count);
            LittleEndian.WriteUInt32(data, 8, (uint)bundle.HeaderJson.Length);
            System.Array.Copy(bundle.HeaderJson, 0, data, FixedHeaderLength, bundle.HeaderJson.Length);
            int position = FixedHeaderLength + bundle.HeaderJson.Length;
            for (int i = 0; i < bundle.Count; i++)
            {
                string name = bundle.GetName(i);
                data[position++] = (byte)name.Length;
                for (int c = 0; c < name.Length; c++)
                {
                    data[position++] = (byte)name[c];
                }

                TensorFrame frame = bundle.GetFrame(i);
                int frameLength = TensorFrameCodec.EncodedLength(frame);
                LittleEndian.WriteUInt32(data, position, (uint)frameLength);
                position += 4;
                position += TensorFrameCodec.EncodeTo(frame, data, position);
            }

            LittleEndian.WriteUInt32(data, position, Crc32.Compute(data, 0, position));
            return data;
        }

        /// <summary>Decodes a bundle that fills <paramref name="data"/> exactly.</summary>
        public static TensorBundle Decode(byte[] data)
        {
            if (data == null)
            {
                throw new System.ArgumentNullException(nameof(data));
            }

            return Decode(data, 0, data.Length);
        }

        /// <summary>
        /// Decodes a bundle in <paramref name="count"/> bytes at <paramref name="offset"/>: structure first
        /// (Truncated, Oversize), then the bundle CRC, then header JSON, names and each frame.
        /// </summary>
        public static TensorBundle Decode(byte[] data, int offset, int count)
        {
            if (data == null)
            {
                throw new System.ArgumentNullException(nameof(data));
            }

            if (offset < 0 || count < 0 || offset > data.Length - count)
            {
                throw new System.ArgumentOutOfRangeException(nameof(count));
            }

            if (count > WireLimits.MaxBundleBytes)
            {
                throw new WireFormatException(WireErrorCode.Oversize, "bundle", count.ToString() + " bytes exceed " + WireLimits.MaxBundleBytes.ToString());
            }

            int end = offset + count;
            RequireBytes(offset, 4, end, "magic");
            for (int i = 0; i < 4; i++)
            {
                if (data[offset + i] != Magic[i])
                {
                    throw new WireFormatException(WireErrorCode.BadMagic, "magic", "not a tensor bundle (expected \"ELTB\")");
                }
            }

            RequireBytes(offset, FixedHeaderLength, end, "header");
            int version = data[offset + 4];
            if (version != Version)
            {
                throw new WireFormatException(WireErrorCode.UnsupportedVersion, "version", "bundle version " + version.ToString() + " (this codec reads " + Version.ToString() + ")");
            }

            if (data[offset + 5] != 0)
            {
                throw new WireFormatException(WireErrorCode.UnsupportedVersion, "flags", "bundle flags 0x" + data[offset + 5].ToString("x2") + " are not defined in version 1");
            }

            int frameCount = LittleEndian.ReadUInt16(data, offset + 6);
            if (frameCount > WireLimits.MaxBundleFrames)
            {
                throw new WireFormatException(WireErrorCode.Oversize, "frames", frameCount.ToString() + " frames exceed " + WireLimits.MaxBundleFrames.ToString());
            }

            uint headerLength = LittleEndian.ReadUInt32(data, offset + 8);
            if (headerLength > WireLimits.MaxJsonBytes)
            {
                throw new WireFormatException(WireErrorCode.Oversize, "header", headerLength.ToString() + " header bytes exceed " + WireLimits.MaxJsonBytes.ToString());
            }

            int headerStart = offset + FixedHeaderLength;
            RequireBytes(headerStart, (int)headerLength, end, "header");

            // Walk the entries once for their extents, so that the CRC is checked before any content is trusted.
            int[] nameStarts = new int[frameCount];
            int[] frameStarts = new int[frameCount];
            int[] frameLengths = new int[frameCount];
            int position = headerStart + (int)headerLength;
            for (int i = 0; i < frameCount; i++)
            {
                RequireBytes(position, 1, end, "frame " + i.ToString() + " name");
                int nameLength = data[position];
                nameStarts[i] = position;
                position += 1;
                RequireBytes(position, nameLength + 4, end, "frame " + i.ToString() + " name");
                position += nameLength;
                uint frameLength = LittleEndian.ReadUInt32(data, position);
                position += 4;
                if (frameLength > (uint)(end - position))
                {
                    throw new WireFormatException(WireErrorCode.Truncated, "frame " + i.ToString(), "needs " + frameLength.ToString() + " bytes, " + (end - position).ToString() + " left");
                }

                frameStarts[i] = position;
                frameLengths[i] = (int)frameLength;
                position += (int)frameLength;
            }

            RequireBytes(position, 4, end, "crc");
            uint storedCrc = LittleEndian.ReadUInt32(data, position);
            uint computedCrc = Crc32.Compute(data, offset, position - offset);
            if (storedCrc != computedCrc)
            {
                throw new WireFormatException(WireErrorCode.CrcMismatch, "crc", "stored 0x" + storedCrc.ToString("x8") + ", computed 0x" + computedCrc.ToString("x8"));
            }

            if (position + 4 != end)
            {
                throw new WireFormatException(WireErrorCode.TrailingData, "bundle", (end - position - 4).ToString() + " bytes follow the bundle");
            }

            byte[] headerJson = new byte[headerLength];
            System.Array.Copy(data, headerStart, headerJson, 0, (int)headerLength);
            TensorBundle bundle = new TensorBundle(headerJson);
            for (int i = 0; i < frameCount; i++)
            {
                int nameLength = data[nameStarts[i]];
                char[] nameChars = new char[nameLength];
                for (int c = 0; c < nameLength; c++)
                {
                    nameChars[c] = (char)data[nameStarts[i] + 1 + c];
                }

                bundle.Add(new string(nameChars), TensorFrameCodec.Decode(data, frameStarts[i], frameLengths[i]));
            }

            return bundle;
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
