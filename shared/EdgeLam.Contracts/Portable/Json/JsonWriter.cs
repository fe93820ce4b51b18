namespace EdgeLam.Contracts.Wire.Json
{
    /// <summary>
    /// Compact UTF-8 JSON writer (no whitespace) with commas placed automatically. Strings escape only what
    /// RFC 8259 requires ('"', '\\', control characters, as System.Text.Json's relaxed encoder does); non-ASCII is written as UTF-8.
    /// </summary>
    public sealed class JsonWriter
    {
        private static readonly byte[] HexDigits = new byte[] { (byte)'0', (byte)'1', (byte)'2', (byte)'3', (byte)'4', (byte)'5', (byte)'6', (byte)'7', (byte)'8', (byte)'9', (byte)'A', (byte)'B', (byte)'C', (byte)'D', (byte)'E', (byte)'F' };

        private readonly bool[] _hasElements = new bool[WireLimits.MaxJsonDepth + 1];
        private byte[] _buffer = new byte[256];
        private int _length;
        private int _depth;
        private bool _afterName;

        /// <summary>Bytes written so far.</summary>
        public int Length
        {
            get { return _length; }
        }

        /// <summary>Serializes a parsed value; numbers keep their literal, so a compact document re-encodes byte for byte.</summary>
        public static byte[] Serialize(JsonValue value)
        {
            JsonWriter writer = new JsonWriter();
            writer.WriteValue(value);
            return writer.ToArray();
        }

        /// <summary>The document written so far.</summary>
        public byte[] ToArray()
        {
            if (_depth != 0)
            {
                throw new System.InvalidOperationException("JSON document has " + _depth.ToString() + " unclosed containers");
            }

            byte[] result = new byte[_length];
            System.Array.Copy(_buffer, 0, result, 0, _length);
            return result;
        }

        /// <summary>Writes a parsed value and everything inside it.</summary>
        public void WriteValue(JsonValue value)
        {
            if (value == null)
            {
                throw new System.ArgumentNullException(nameof(value));
            }

            switch (value.Kind)
            {
                case JsonKind.Object:
                    JsonObject members = (JsonObject)value;
                    WriteStartObject();
                    for (int i = 0; i < members.Count; i++)
                    {
                        WritePropertyName(members.GetName(i));
                        WriteValue(members.GetValue(i));
                    }

                    WriteEndObject();
                    break;
                case JsonKind.Array:
                    JsonArray items = (JsonArray)value;
                    WriteStartArray();
                    for (int i = 0; i < items.Count; i++)
                    {
                        WriteValue(items.Get(i));
                    }

                    WriteEndArray();
                    break;
                case JsonKind.String:
                    WriteString(((JsonString)value).Value);
                    break;
                case JsonKind.Number:
                    WriteRaw(((JsonNumber)value).Text);
                    break;
                case JsonKind.Boolean:
                    WriteBoolean(((JsonBoolean)value).Value);
                    break;
                default:
                    WriteNull();
                    break;
            }
        }

        /// <summary>Opens an object.</summary>
        public void WriteStartObject()
        {
            BeginValue();
            Append((byte)'{');
            Push();
        }

        /// <summary>Closes an object.</summary>
        public void WriteEndObject()
        {
            Pop();
            Append((byte)'}');
        }

        /// <summary>Opens an array.</summary>
        public void WriteStartArray()
        {
            BeginValue();
            Append((byte)'[');
            Push();
        }

        /// <summary>Closes an array.</summary>
        public void WriteEndArray()
        {
            Pop();
            Append((byte)']');
        }

        /// <summary>Writes a member name; the next call writes its value.</summary>
        public void WritePropertyName(string name)
        {
            BeginValue();
            AppendQuoted(name);
            Append((byte)':');
            _afterName = true;
        }

        /// <summary>Writes a string value.</summary>
        public void WriteString(string value)
        {
            BeginValue();
            AppendQuoted(value);
        }

        /// <summary>Writes an integer.</summary>
        public void WriteNumber(long value)
        {
            WriteRaw(value.ToString());
        }

        /// <summary>Writes a finite double in its shortest round-trip form; NaN and infinities are NonFinite errors.</summary>
        public void WriteNumber(double value)
        {
            if (!FloatBits.IsFinite(value))
            {
                throw new WireFormatException(WireErrorCode.NonFinite, "json", "JSON cannot carry NaN or infinity");
            }

#if NANOFRAMEWORK
            WriteRaw(value.ToString());
#else
            WriteRaw(value.ToString("R", System.Globalization.CultureInfo.InvariantCulture));
#endif
        }

        /// <summary>Writes true or false.</summary>
        public void WriteBoolean(bool value)
        {
            WriteRaw(value ? "true" : "false");
        }

        /// <summary>Writes null.</summary>
        public void WriteNull()
        {
            WriteRaw("null");
        }

        /// <summary>Shorthand: a member with a string value.</summary>
        public void WriteString(string name, string value)
        {
            WritePropertyName(name);
            WriteString(value);
        }

        /// <summary>Shorthand: a member with an integer value.</summary>
        public void WriteNumber(string name, long value)
        {
            WritePropertyName(name);
            WriteNumber(value);
        }

        /// <summary>Shorthand: a member with a number value.</summary>
        public void WriteNumber(string name, double value)
        {
            WritePropertyName(name);
            WriteNumber(value);
        }

        /// <summary>Shorthand: a member with a boolean value.</summary>
        public void WriteBoolean(string name, bool value)
        {
            WritePropertyName(name);
            WriteBoolean(value);
        }

        private void WriteRaw(string asciiText)
        {
            BeginValue();
            for (int i = 0; i < asciiText.Length; i++)
            {
                Append((byte)asciiText[i]);
            }
        }

        private void BeginValue()
        {
            if (_afterName)
            {
                _afterName = false;
                return;
            }

            if (_depth > 0)
            {
                if (_hasElements[_depth])
                {
                    Append((byte)',');
                }

                _hasElements[_depth] = true;
            }
        }

        private void Push()
        {
            if (_depth == WireLimits.MaxJsonDepth)
            {
                throw new WireFormatException(WireErrorCode.TooDeep, "json", "nesting deeper than " + WireLimits.MaxJsonDepth.ToString());
            }

            _depth++;
            _hasElements[_depth] = false;
        }

        private void Pop()
        {
            if (_depth == 0)
            {
                throw new System.InvalidOperationException("no open JSON container to close");
            }

            _depth--;
        }

        private void AppendQuoted(string text)
        {
            Append((byte)'"');
            byte[] utf8 = Utf8.Encode(text);
            for (int i = 0; i < utf8.Length; i++)
            {
                byte c = utf8[i];
                if (c == (byte)'"' || c == (byte)'\\')
                {
                    Append((byte)'\\');
                    Append(c);
                }
                else if (c < 0x20)
                {
                    AppendControlEscape(c);
                }
                else
                {
                    Append(c);
                }
            }

            Append((byte)'"');
        }

        private void AppendControlEscape(byte c)
        {
            Append((byte)'\\');
            switch (c)
            {
                case (byte)'\b': Append((byte)'b'); return;
                case (byte)'\f': Append((byte)'f'); return;
                case (byte)'\n': Append((byte)'n'); return;
                case (byte)'\r': Append((byte)'r'); return;
                case (byte)'\t': Append((byte)'t'); return;
                default:
                    Append((byte)'u');
                    Append((byte)'0');
                    Append((byte)'0');
                    Append(HexDigits[c >> 4]);
                    Append(HexDigits[c & 0xF]);
                    return;
            }
        }

        private void Append(byte value)
        {
            if (_length == _buffer.Length)
            {
                byte[] larger = new byte[_buffer.Length * 2];
                System.Array.Copy(_buffer, 0, larger, 0, _length);
                _buffer = larger;
            }

            _buffer[_length++] = value;
        }
    }
}
