namespace EdgeLam.Contracts.Wire
{
    /// <summary>Little-endian reads and writes on byte arrays; every multi-byte wire field is little-endian.</summary>
    public static class LittleEndian
    {
        /// <summary>Reads an unsigned 16-bit value.</summary>
        public static int ReadUInt16(byte[] data, int offset)
        {
            return data[offset] | (data[offset + 1] << 8);
        }

        /// <summary>Reads an unsigned 32-bit value.</summary>
        public static uint ReadUInt32(byte[] data, int offset)
        {
            return (uint)data[offset] | ((uint)data[offset + 1] << 8) | ((uint)data[offset + 2] << 16) | ((uint)data[offset + 3] << 24);
        }

        /// <summary>Reads a signed 32-bit value.</summary>
        public static int ReadInt32(byte[] data, int offset)
        {
            return (int)ReadUInt32(data, offset);
        }

        /// <summary>Reads an IEEE 754 binary32 value.</summary>
        public static float ReadSingle(byte[] data, int offset)
        {
            return FloatBits.Int32BitsToSingle(ReadInt32(data, offset));
        }

        /// <summary>Writes an unsigned 16-bit value.</summary>
        public static void WriteUInt16(byte[] data, int offset, int value)
        {
            data[offset] = (byte)value;
            data[offset + 1] = (byte)(value >> 8);
        }

        /// <summary>Writes an unsigned 32-bit value.</summary>
        public static void WriteUInt32(byte[] data, int offset, uint value)
        {
            data[offset] = (byte)value;
            data[offset + 1] = (byte)(value >> 8);
            data[offset + 2] = (byte)(value >> 16);
            data[offset + 3] = (byte)(value >> 24);
        }

        /// <summary>Writes a signed 32-bit value.</summary>
        public static void WriteInt32(byte[] data, int offset, int value)
        {
            WriteUInt32(data, offset, (uint)value);
        }

        /// <summary>Writes an IEEE 754 binary32 value.</summary>
        public static void WriteSingle(byte[] data, int offset, float value)
        {
            WriteInt32(data, offset, FloatBits.SingleToInt32Bits(value));
        }
    }
}
