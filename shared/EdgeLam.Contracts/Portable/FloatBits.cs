namespace EdgeLam.Contracts.Wire
{
    /// <summary>Bit patterns of binary32 values, and finiteness tests that need no System.Math.</summary>
    public static class FloatBits
    {
        /// <summary>The IEEE 754 bit pattern of a float.</summary>
        public static int SingleToInt32Bits(float value)
        {
#if NANOFRAMEWORK
            // nanoFramework's BitConverter lacks SingleToInt32Bits; both calls use the (little-endian) host order.
            return System.BitConverter.ToInt32(System.BitConverter.GetBytes(value), 0);
#else
            return System.BitConverter.SingleToInt32Bits(value);
#endif
        }

        /// <summary>The float with the given IEEE 754 bit pattern.</summary>
        public static float Int32BitsToSingle(int bits)
        {
#if NANOFRAMEWORK
            return System.BitConverter.ToSingle(System.BitConverter.GetBytes(bits), 0);
#else
            return System.BitConverter.Int32BitsToSingle(bits);
#endif
        }

        /// <summary>True unless the value is NaN or an infinity.</summary>
        public static bool IsFinite(float value)
        {
            return (SingleToInt32Bits(value) & 0x7F800000) != 0x7F800000;
        }

        /// <summary>True unless the value is NaN or an infinity.</summary>
        public static bool IsFinite(double value)
        {
            return !double.IsNaN(value) && !double.IsInfinity(value);
        }
    }
}
