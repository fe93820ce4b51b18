namespace EdgeLam.Contracts.Wire.Json
{
    /// <summary>
    /// A JSON object with members in document order. The getters enforce a message's schema and throw
    /// <see cref="WireFormatException"/> naming the member: MissingField, WrongType, OutOfRange.
    /// </summary>
    public sealed class JsonObject : JsonValue
    {
        private readonly System.Collections.ArrayList _names = new System.Collections.ArrayList();
        private readonly System.Collections.ArrayList _values = new System.Collections.ArrayList();

        /// <summary>Creates an empty object.</summary>
        public JsonObject(string path)
            : base(path)
        {
        }

        /// <inheritdoc/>
        public override JsonKind Kind
        {
            get { return JsonKind.Object; }
        }

        /// <summary>Number of members.</summary>
        public int Count
        {
            get { return _names.Count; }
        }

        /// <summary>Name of member <paramref name="index"/>.</summary>
        public string GetName(int index)
        {
            return (string)_names[index]!;
        }

        /// <summary>Value of member <paramref name="index"/>.</summary>
        public JsonValue GetValue(int index)
        {
            return (JsonValue)_values[index]!;
        }

        /// <summary>Adds a member; a repeated name is a DuplicateName error (RFC 8259 leaves it undefined, we refuse it).</summary>
        public void Add(string name, JsonValue value)
        {
            if (name == null)
            {
                throw new System.ArgumentNullException(nameof(name));
            }

            if (value == null)
            {
                throw new System.ArgumentNullException(nameof(value));
            }

            if (IndexOf(name) >= 0)
            {
                throw new WireFormatException(WireErrorCode.DuplicateName, MemberPath(Path, name), "member appears twice");
            }

            _names.Add(name);
            _values.Add(value);
        }

        /// <summary>The member's value, or null when absent. A JSON null is returned as <see cref="JsonNull"/>.</summary>
        public JsonValue? Find(string name)
        {
            int index = IndexOf(name);
            return index < 0 ? null : (JsonValue)_values[index]!;
        }

        /// <summary>True when the member is present and not JSON null.</summary>
        public bool Has(string name)
        {
            JsonValue? value = Find(name);
            return value != null && value.Kind != JsonKind.Null;
        }

        /// <summary>The member's value; absent or null is a MissingField error.</summary>
        public JsonValue GetRequired(string name)
        {
            JsonValue? value = Find(name);
            if (value == null || value.Kind == JsonKind.Null)
            {
                throw new WireFormatException(WireErrorCode.MissingField, MemberPath(Path, name), "required field is missing");
            }

            return value;
        }

        /// <summary>A required string of 1..<paramref name="maximumLength"/> characters.</summary>
        public string GetString(string name, int maximumLength)
        {
            JsonValue value = GetRequired(name);
            string text = value.AsString();
            if (text.Length == 0 || text.Length > maximumLength)
            {
                throw new WireFormatException(WireErrorCode.OutOfRange, value.Path, "length " + text.Length.ToString() + " outside [1," + maximumLength.ToString() + "]");
            }

            return text;
        }

        /// <summary>An optional string of 1..<paramref name="maximumLength"/> characters; null when absent.</summary>
        public string? GetOptionalString(string name, int maximumLength)
        {
            return Has(name) ? GetString(name, maximumLength) : null;
        }

        /// <summary>A required integer in [minimum, maximum].</summary>
        public long GetInt64(string name, long minimum, long maximum)
        {
            return GetRequired(name).AsInt64(minimum, maximum);
        }

        /// <summary>A required int in [minimum, maximum].</summary>
        public int GetInt32(string name, int minimum, int maximum)
        {
            return GetRequired(name).AsInt32(minimum, maximum);
        }

        /// <summary>A required finite number in [minimum, maximum].</summary>
        public double GetDouble(string name, double minimum, double maximum)
        {
            return GetRequired(name).AsDouble(minimum, maximum);
        }

        /// <summary>A required boolean.</summary>
        public bool GetBoolean(string name)
        {
            return GetRequired(name).AsBoolean();
        }

        /// <summary>A required object.</summary>
        public JsonObject GetObject(string name)
        {
            return GetRequired(name).AsObject();
        }

        /// <summary>A required array.</summary>
        public JsonArray GetArray(string name)
        {
            return GetRequired(name).AsArray();
        }

        /// <summary>A required string that is one of <paramref name="allowed"/>; anything else is UnknownValue.</summary>
        public string GetChoice(string name, string[] allowed)
        {
            JsonValue value = GetRequired(name);
            string text = value.AsString();
            for (int i = 0; i < allowed.Length; i++)
            {
                if (text == allowed[i])
                {
                    return text;
                }
            }

            throw new WireFormatException(WireErrorCode.UnknownValue, value.Path, "\"" + text + "\" is not one of the allowed values");
        }

        private int IndexOf(string name)
        {
            for (int i = 0; i < _names.Count; i++)
            {
                if ((string)_names[i]! == name)
                {
                    return i;
                }
            }

            return -1;
        }
    }
}
