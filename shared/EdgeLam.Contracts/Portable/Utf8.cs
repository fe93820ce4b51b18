namespace EdgeLam.Contracts.Wire
{
    /// <summary>Strict UTF-8 (RFC 3629) by hand: nanoFramework's mscorlib has no System.Text.Encoding.</summary>
    public static class Utf8
    {
        /// <summary>UTF-8 bytes of a string; a lone surrogate is an error, not a replacement character.</summary>
        public static byte[] Encode(string text)
        {
            if (text == null)
            {
                throw new System.ArgumentNullException(nameof(text));
            }

            int length = 0;
            for (int i = 0; i < text.Length; i++)
            {
                int codePoint = CodePointAt(text, i);
                length += codePoint < 0x80 ? 1 : codePoint < 0x800 ? 2 : codePoint < 0x10000 ? 3 : 4;
                if (codePoint >= 0x10000)
                {
                    i++;
                }
            }

            byte[] bytes = new byte[length];
            int position = 0;
            for (int i = 0; i < text.Length; i++)
            {
                int codePoint = CodePointAt(text, i);
                if (codePoint < 0x80)
                {
                    bytes[position++] = (byte)codePoint;
                }
                else if (codePoint < 0x800)
                {
                    bytes[position++] = (byte)(0xC0 | (codePoint >> 6));
                    bytes[position++] = (byte)(0x80 | (codePoint & 0x3F));
                }
                else if (codePoint < 0x10000)
                {
                    bytes[position++] = (byte)(0xE0 | (codePoint >> 12));
                    bytes[position++] = (byte)(0x80 | ((codePoint >> 6) & 0x3F));
                    bytes[position++] = (byte)(0x80 | (codePoint & 0x3F));
                }
                else
                {
                    bytes[position++] = (byte)(0xF0 | (codePoint >> 18));
                    bytes[position++] = (byte)(0x80 | ((codePoint >> 12) & 0x3F));
                    bytes[position++] = (byte)(0x80 | ((codePoint >> 6) & 0x3F));
                    bytes[position++] = (byte)(0x80 | (codePoint & 0x3F));
                    i++;
                }
            }

            return bytes;
        }

        /// <summary>Decodes well-formed UTF-8; overlong forms, surrogates and code points above U+10FFFF are refused.</summary>
        public static string Decode(byte[] data, int offset, int count)
        {
            if (data == null)
            {
                throw new System.ArgumentNullException(nameof(data));
            }

            if (offset < 0 || count < 0 || offset > data.Length - count)
            {
                throw new System.ArgumentOutOfRangeException(nameof(count));
            }

            char[] chars = new char[count];
            int length = 0;
            int position = offset;
            int end = offset + count;
            while (position < end)
            {
                int codePoint = DecodeCodePoint(data, position, end, out int consumed);
                position += consumed;
                length = AppendCodePoint(chars, length, codePoint);
            }

            return new string(chars, 0, length);
        }

        /// <summary>Decodes one code point at <paramref name="position"/>; <paramref name="consumed"/> is its byte length.</summary>
        public static int DecodeCodePoint(byte[] data, int position, int end, out int consumed)
        {
            int first = data[position];
            if (first < 0x80)
            {
                consumed = 1;
                return first;
            }

            int needed;
            int codePoint;
            int minimum;
            if ((first & 0xE0) == 0xC0)
            {
                needed = 1;
                codePoint = first & 0x1F;
                minimum = 0x80;
            }
            else if ((first & 0xF0) == 0xE0)
            {
                needed = 2;
                codePoint = first & 0x0F;
                minimum = 0x800;
            }
            else if ((first & 0xF8) == 0xF0)
            {
                needed = 3;
                codePoint = first & 0x07;
                minimum = 0x10000;
            }
            else
            {
                throw new WireFormatException(WireErrorCode.InvalidUtf8, "utf8", "invalid lead byte 0x" + first.ToString("x2") + " at " + position.ToString());
            }

            if (needed > end - position - 1)
            {
                throw new WireFormatException(WireErrorCode.InvalidUtf8, "utf8", "sequence cut short at " + position.ToString());
            }

            for (int i = 1; i <= needed; i++)
            {
                int next = data[position + i];
                if ((next & 0xC0) != 0x80)
                {
                    throw new WireFormatException(WireErrorCode.InvalidUtf8, "utf8", "invalid continuation byte at " + (position + i).ToString());
                }

                codePoint = (codePoint << 6) | (next & 0x3F);
            }

            if (codePoint < minimum || codePoint > 0x10FFFF || (codePoint >= 0xD800 && codePoint <= 0xDFFF))
            {
                throw new WireFormatException(WireErrorCode.InvalidUtf8, "utf8", "overlong, surrogate or out-of-range code point at " + position.ToString());
            }

            consumed = needed + 1;
            return codePoint;
        }

        /// <summary>Appends a code point as UTF-16 (one char or a surrogate pair); returns the new length.</summary>
        public static int AppendCodePoint(char[] chars, int length, int codePoint)
        {
            if (codePoint < 0x10000)
            {
                chars[length] = (char)codePoint;
                return length + 1;
            }

            int value = codePoint - 0x10000;
            chars[length] = (char)(0xD800 + (value >> 10));
            chars[length + 1] = (char)(0xDC00 + (value & 0x3FF));
            return length + 2;
        }

        private static int CodePointAt(string text, int index)
        {
            char c = text[index];
            if (c >= 0xD800 && c <= 0xDBFF)
            {
                if (index + 1 < text.Length && text[index + 1] >= 0xDC00 && text[index + 1] <= 0xDFFF)
                {
                    return 0x10000 + ((c - 0xD800) << 10) + (text[index + 1] - 0xDC00);
                }

                throw new System.ArgumentException("lone high surrogate at " + index.ToString(), nameof(text));
            }

            if (c >= 0xDC00 && c <= 0xDFFF)
            {
                throw new System.ArgumentException("lone low surrogate at " + index.ToString(), nameof(text));
            }

            return c;
        }
    }
}
