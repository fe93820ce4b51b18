namespace EdgeLam.Contracts.Wire
{
    /// <summary>
    /// IEEE 754 binary16 conversion by bit manipulation (nanoFramework has no System.Half). Float to half
    /// rounds to nearest, ties to even, overflows to infinity and keeps NaN a (quiet) NaN.
    /// </summary>
    public static class HalfPrecision
    {
        /// <summary>The binary16 bit pattern nearest to <paramref name="value"/>.</summary>
        public static ushort FromSingle(float value)
        {
            uint bits = (uint)FloatBits.SingleToInt32Bits(value);
            uint sign = (bits >> 16) & 0x8000u;
            int exponent = (int)((bits >> 23) & 0xFF);
            uint mantissa = bits & 0x7FFFFFu;

            if (exponent == 0xFF)
            {
                // Infinity stays infinity; NaN keeps its top payload bits and is forced quiet so it stays NaN.
                return (ushort)(mantissa == 0 ? sign | 0x7C00u : sign | 0x7E00u | (mantissa >> 13));
            }

            int halfExponent = exponent - 127 + 15;
            if (halfExponent >= 0x1F)
            {
                return (ushort)(sign | 0x7C00u);
            }

            if (halfExponent <= 0)
            {
                // Result is subnormal (or zero): value / 2^-24 with the implicit leading bit restored.
                if (halfExponent < -10)
                {
                    return (ushort)sign;
                }

                uint full = mantissa | 0x800000u;
                int shift = 14 - halfExponent;
                uint halfMantissa = full >> shift;
                uint remainder = full & ((1u << shift) - 1u);
                uint halfway = 1u << (shift - 1);
                if (remainder > halfway || (remainder == halfway && (halfMantissa & 1u) != 0))
                {
                    halfMantissa++;
                }

                return (ushort)(sign | halfMantissa);
            }

            uint half = sign | ((uint)halfExponent << 10) | (mantissa >> 13);
            uint rest = mantissa & 0x1FFFu;
            if (rest > 0x1000u || (rest == 0x1000u && (half & 1u) != 0))
            {
                // A carry out of the mantissa correctly bumps the exponent, up to infinity.
                half++;
            }

            return (ushort)half;
        }

        /// <summary>The exact float value of a binary16 bit pattern.</summary>
        public static float ToSingle(ushort half)
        {
            uint sign = ((uint)half & 0x8000u) << 16;
            int exponent = (half >> 10) & 0x1F;
            uint mantissa = (uint)half & 0x3FFu;

            if (exponent == 0)
            {
                if (mantissa == 0)
                {
                    return FloatBits.Int32BitsToSingle((int)sign);
                }

                int normalized = 1;
                while ((mantissa & 0x400u) == 0)
                {
                    mantissa <<= 1;
                    normalized--;
                }

                mantissa &= 0x3FFu;
                return FloatBits.Int32BitsToSingle((int)(sign | ((uint)(normalized + 112) << 23) | (mantissa << 13)));
            }

            if (exponent == 0x1F)
            {
                return FloatBits.Int32BitsToSingle((int)(sign | 0x7F800000u | (mantissa << 13)));
            }

            return FloatBits.Int32BitsToSingle((int)(sign | ((uint)(exponent + 112) << 23) | (mantissa << 13)));
        }

        /// <summary>True unless the binary16 pattern is NaN or an infinity.</summary>
        public static bool IsFinite(ushort half)
        {
            return (half & 0x7C00) != 0x7C00;
        }
    }
}
