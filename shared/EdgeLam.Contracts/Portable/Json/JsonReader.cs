namespace EdgeLam.Contracts.Wire.Json
{
    /// <summary>
    /// Strict RFC 8259 parser for UTF-8 documents up to <see cref="WireLimits.MaxJsonBytes"/> bytes and
    /// <see cref="WireLimits.MaxJsonDepth"/> levels. Every defect is a <see cref="WireFormatException"/>:
    /// MalformedJson (with the byte offset), InvalidUtf8, TooDeep, Oversize, NonFinite, DuplicateName, TrailingData.
    /// </summary>
    public sealed class JsonReader
    {
        private readonly byte[] _data;
        private readonly int _end;
        private int _position;
        private int _depth;

        private JsonReader(byte[] data, int offset, int count)
        {
            _data = data;
            _position = offset;
            _end = offset + count;
        }

        /// <summary>Parses a whole document.</summary>
        public static JsonValue Parse(byte[] utf8)
        {
            if (utf8 == null)
            {
                throw new System.ArgumentNullException(nameof(utf8));
            }

            return Parse(utf8, 0, utf8.Length);
        }

        /// <summary>Parses the document in <paramref name="count"/> bytes at <paramref name="offset"/>; only whitespace may surround it.</summary>
        public static JsonValue Parse(byte[] utf8, int offset, int count)
        {
            if (utf8 == null)
            {
                throw new System.ArgumentNullException(nameof(utf8));
            }

            if (offset < 0 || count < 0 || offset > utf8.Length - count)
            {
                throw new System.ArgumentOutOfRangeException(nameof(count));
            }

            if (count > WireLimits.MaxJsonBytes)
            {
                throw new WireFormatException(WireErrorCode.Oversize, "json", count.ToString() + " bytes exceed " + WireLimits.MaxJsonBytes.ToString());
            }

            JsonReader reader = new JsonReader(utf8, offset, count);
            reader.SkipWhitespace();
            JsonValue value = reader.ReadValue(string.Empty);
            reader.SkipWhitespace();
            if (reader._position != reader._end)
            {
                throw new WireFormatException(WireErrorCode.TrailingData, "json", "content after the document at byte " + (reader._position - offset).ToString());
            }

            return value;
        }

        /// <summary>Parses a document that must be an object (every control message is one).</summary>
        public static JsonObject ParseObject(byte[] utf8, int offset, int count)
        {
            JsonValue value = Parse(utf8, offset, count);
            JsonObject? result = value as JsonObject;
            if (result == null)
            {
                throw new WireFormatException(WireErrorCode.MalformedJson, "json", "document is a " + JsonValue.KindName(value.Kind) + ", not an object");
            }

            return result;
        }

        private JsonValue ReadValue(string path)
        {
            if (_position >= _end)
            {
                throw Malformed("unexpected end, a value was expected");
            }

            byte next = _data[_position];
            switch (next)
            {
                case (byte)'{':
                    return ReadObject(path);
                case (byte)'[':
                    return ReadArray(path);
                case (byte)'"':
                    return new JsonString(ReadString(), path);
                case (byte)'t':
                    ExpectLiteral("true");
                    return new JsonBoolean(true, path);
                case (byte)'f':
                    ExpectLiteral("false");
                    return new JsonBoolean(false, path);
                case (byte)'n':
                    ExpectLiteral("null");
                    return new JsonNull(path);
                default:
                    if (next == (byte)'-' || (next >= (byte)'0' && next <= (byte)'9'))
                    {
                        return ReadNumber(path);
                    }

                    throw Malformed("unexpected character '" + ((char)next).ToString() + "'");
            }
        }

        private JsonObject ReadObject(string path)
        {
            Enter();
            _position++;
            JsonObject result = new JsonObject(path);
            SkipWhitespace();
            if (Peek() == '}')
            {
                _position++;
                _depth--;
                return result;
            }

            while (true)
            {
                SkipWhitespace();
                if (Peek() != '"')
                {
                    throw Malformed("a member name (string) was expected");
                }

                string name = ReadString();
                SkipWhitespace();
                if (Peek() != ':')
                {
                    throw Malformed("':' was expected after member \"" + name + "\"");
                }

                _position++;
                SkipWhitespace();
                result.Add(name, ReadValue(JsonValue.MemberPath(path, name)));
                SkipWhitespace();
                int separator = Peek();
                _position++;
                if (separator == '}')
                {
                    _depth--;
                    return result;
                }

                if (separator != ',')
                {
                    _position--;
                    throw Malformed("',' or '}' was expected");
                }
            }
        }

        private JsonArray ReadArray(string path)
        {
            Enter();
            _position++;
            JsonArray result = new JsonArray(path);
            SkipWhitespace();
            if (Peek() == ']')
            {
                _position++;
                _depth--;
                return result;
            }

            while (true)
            {
                SkipWhitespace();
                result.Add(ReadValue(JsonValue.ElementPath(path, result.Count)));
                SkipWhitespace();
                int separator = Peek();
                _position++;
                if (separator == ']')
                {
                    _depth--;
                    return result;
                }

                if (separator != ',')
                {
                    _position--;
                    throw Malformed("',' or ']' was expected");
                }
            }
        }

        private string ReadString()
        {
            int start = _position;
            _position++;

            // Size the buffer by the encoded length up to the closing quote: UTF-16 units never outnumber bytes.
            int scan = _position;
            while (scan < _end && _data[scan] != (byte)'"')
            {
                scan += _data[scan] == (byte)'\\' ? 2 : 1;
            }

            char[] chars = new char[scan - _position + 1];
            int length = 0;
            while (true)
            {
                if (_position >= _end)
                {
                    _position = start;
                    throw Malformed("unterminated string");
                }

                byte next = _data[_position];
                if (next == (byte)'"')
                {
                    _position++;
                    return new string(chars, 0, length);
                }

                if (next < 0x20)
                {
                    throw Malformed("control character in string");
                }

                if (next == (byte)'\\')
                {
                    length = ReadEscape(chars, length);
                    continue;
                }

                int codePoint = Utf8.DecodeCodePoint(_data, _position, _end, out int consumed);
                _position += consumed;
                length = Utf8.AppendCodePoint(chars, length, codePoint);
            }
        }

        private int ReadEscape(char[] chars, int length)
        {
            if (_position + 1 >= _end)
            {
                throw Malformed("unterminated escape");
            }

            byte kind = _data[_position + 1];
            _position += 2;
            switch (kind)
            {
                case (byte)'"': chars[length] = '"'; return length + 1;
                case (byte)'\\': chars[length] = '\\'; return length + 1;
                case (byte)'/': chars[length] = '/'; return length + 1;
                case (byte)'b': chars[length] = '\b'; return length + 1;
                case (byte)'f': chars[length] = '\f'; return length + 1;
                case (byte)'n': chars[length] = '\n'; return length + 1;
                case (byte)'r': chars[length] = '\r'; return length + 1;
                case (byte)'t': chars[length] = '\t'; return length + 1;
                case (byte)'u':
                    int unit = ReadHex4();
                    if (unit >= 0xD800 && unit <= 0xDBFF)
                    {
                        if (_position + 1 < _end && _data[_position] == (byte)'\\' && _data[_position + 1] == (byte)'u')
                        {
                            _position += 2;
                            int low = ReadHex4();
                            if (low >= 0xDC00 && low <= 0xDFFF)
                            {
                                chars[length] = (char)unit;
                                chars[length + 1] = (char)low;
                                return length + 2;
                            }
                        }

                        throw Malformed("high surrogate escape without its low surrogate");
                    }

                    if (unit >= 0xDC00 && unit <= 0xDFFF)
                    {
                        throw Malformed("lone low surrogate escape");
                    }

                    chars[length] = (char)unit;
                    return length + 1;
                default:
                    _position -= 2;
                    throw Malformed("invalid escape");
            }
        }

        private int ReadHex4()
        {
            if (_end - _position < 4)
            {
                throw Malformed("\\u escape needs four hex digits");
            }

            int value = 0;
            for (int i = 0; i < 4; i++)
            {
                int c = _data[_position + i];
                int digit;
                if (c >= '0' && c <= '9')
                {
                    digit = c - '0';
                }
                else if (c >= 'a' && c <= 'f')
                {
                    digit = c - 'a' + 10;
                }
                else if (c >= 'A' && c <= 'F')
                {
                    digit = c - 'A' + 10;
                }
                else
                {
                    throw Malformed("\\u escape needs four hex digits");
                }

                value = (value << 4) | digit;
            }

            _position += 4;
            return value;
        }

        private JsonNumber ReadNumber(string path)
        {
            // Grammar of RFC 8259 section 6: -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?
            int start = _position;
            if (Peek() == '-')
            {
                _position++;
            }

            if (Peek() == '0')
            {
                _position++;
            }
            else if (IsDigit(Peek()))
            {
                SkipDigits();
            }
            else
            {
                throw Malformed("digit expected in number");
            }

            if (Peek() == '.')
            {
                _position++;
                if (!IsDigit(Peek()))
                {
                    throw Malformed("digit expected after decimal point");
                }

                SkipDigits();
            }

            if (Peek() == 'e' || Peek() == 'E')
            {
                _position++;
                if (Peek() == '+' || Peek() == '-')
                {
                    _position++;
                }

                if (!IsDigit(Peek()))
                {
                    throw Malformed("digit expected in exponent");
                }

                SkipDigits();
            }

            int length = _position - start;
            if (length > WireLimits.MaxJsonNumberLength)
            {
                throw new WireFormatException(WireErrorCode.Oversize, path, "number literal of " + length.ToString() + " characters exceeds " + WireLimits.MaxJsonNumberLength.ToString());
            }

            // The literal is ASCII, so bytes map to chars one to one.
            char[] chars = new char[length];
            for (int i = 0; i < length; i++)
            {
                chars[i] = (char)_data[start + i];
            }

            string text = new string(chars);
            double value = ParseDouble(text);
            if (!FloatBits.IsFinite(value))
            {
                throw new WireFormatException(WireErrorCode.NonFinite, path, text + " is outside the range of a double");
            }

            return new JsonNumber(text, value, path);
        }

        private static double ParseDouble(string text)
        {
#if NANOFRAMEWORK
            return double.Parse(text);
#else
            return double.Parse(text, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture);
#endif
        }

        private void ExpectLiteral(string literal)
        {
            if (_end - _position < literal.Length)
            {
                throw Malformed("unexpected end in literal");
            }

            for (int i = 0; i < literal.Length; i++)
            {
                if (_data[_position + i] != (byte)literal[i])
                {
                    throw Malformed("invalid literal, expected " + literal);
                }
            }

            _position += literal.Length;
        }

        private void Enter()
        {
            _depth++;
            if (_depth > WireLimits.MaxJsonDepth)
            {
                throw new WireFormatException(WireErrorCode.TooDeep, "json", "nesting deeper than " + WireLimits.MaxJsonDepth.ToString() + " at byte " + _position.ToString());
            }
        }

        private int Peek()
        {
            return _position < _end ? _data[_position] : -1;
        }

        private static bool IsDigit(int c)
        {
            return c >= '0' && c <= '9';
        }

        private void SkipDigits()
        {
            while (IsDigit(Peek()))
            {
                _position++;
            }
        }

        private void SkipWhitespace()
        {
            while (_position < _end)
            {
                byte c = _data[_position];
                if (c != (byte)' ' && c != (byte)'\t' && c != (byte)'\n' && c != (byte)'\r')
                {
                    return;
                }

                _position++;
            }
        }

        private WireFormatException Malformed(string reason)
        {
            return new WireFormatException(WireErrorCode.MalformedJson, "json", reason + " at byte " + _position.ToString());
        }
    }
}
