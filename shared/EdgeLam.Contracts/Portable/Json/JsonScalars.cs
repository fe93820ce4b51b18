namespace EdgeLam.Contracts.Wire.Json
{
    /// <summary>A JSON string.</summary>
    public sealed class JsonString : JsonValue
    {
        private readonly string _value;

        /// <summary>Creates a string value.</summary>
        public JsonString(string value, string path)
            : base(path)
        {
            _value = value;
        }

        /// <inheritdoc/>
        public override JsonKind Kind
        {
            get { return JsonKind.String; }
        }

        /// <summary>The unescaped text.</summary>
        public string Value
        {
            get { return _value; }
        }
    }

    /// <summary>A JSON number; its literal text is kept so that re-encoding reproduces the bytes exactly.</summary>
    public sealed class JsonNumber : JsonValue
    {
        private readonly string _text;
        private readonly double _value;

        /// <summary>Creates a number from its (already validated) literal and value.</summary>
        public JsonNumber(string text, double value, string path)
            : base(path)
        {
            _text = text;
            _value = value;
        }

        /// <inheritdoc/>
        public override JsonKind Kind
        {
            get { return JsonKind.Number; }
        }

        /// <summary>The literal as written, e.g. "-0.25" or "1E-05".</summary>
        public string Text
        {
            get { return _text; }
        }

        /// <summary>The value as the nearest double (always finite).</summary>
        public double Value
        {
            get { return _value; }
        }

        /// <summary>True when the literal has no fraction and no exponent.</summary>
        public bool IsInteger
        {
            get { return _text.IndexOf('.') < 0 && _text.IndexOf('e') < 0 && _text.IndexOf('E') < 0; }
        }

        /// <summary>The exact integer value when the literal is an integer that fits a long.</summary>
        public bool TryGetInt64(out long value)
        {
            value = 0;
            if (!IsInteger)
            {
                return false;
            }

            bool negative = _text[0] == '-';
            int start = negative ? 1 : 0;
            long result = 0;
            for (int i = start; i < _text.Length; i++)
            {
                int digit = _text[i] - '0';

                // Accumulate negatively so that long.MinValue is reachable without overflow.
                if (result < (long.MinValue + digit) / 10)
                {
                    return false;
                }

                result = (result * 10) - digit;
            }

            if (!negative)
            {
                if (result == long.MinValue)
                {
                    return false;
                }

                result = -result;
            }

            value = result;
            return true;
        }
    }

    /// <summary>JSON true or false.</summary>
    public sealed class JsonBoolean : JsonValue
    {
        private readonly bool _value;

        /// <summary>Creates a boolean value.</summary>
        public JsonBoolean(bool value, string path)
            : base(path)
        {
            _value = value;
        }

        /// <inheritdoc/>
        public override JsonKind Kind
        {
            get { return JsonKind.Boolean; }
        }

        /// <summary>The value.</summary>
        public bool Value
        {
            get { return _value; }
        }
    }

    /// <summary>JSON null.</summary>
    public sealed class JsonNull : JsonValue
    {
        /// <summary>Creates a null value.</summary>
        public JsonNull(string path)
            : base(path)
        {
        }

        /// <inheritdoc/>
        public override JsonKind Kind
        {
            get { return JsonKind.Null; }
        }
    }
}
