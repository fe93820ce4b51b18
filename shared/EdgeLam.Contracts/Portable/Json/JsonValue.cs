namespace EdgeLam.Contracts.Wire.Json
{
    /// <summary>A parsed JSON value; <see cref="Path"/> locates it in its document for error messages (e.g. "layers[2]").</summary>
    public abstract class JsonValue
    {
        private readonly string _path;

        /// <summary>Creates a value at a document path ("" for the root).</summary>
        protected JsonValue(string path)
        {
            _path = path == null ? string.Empty : path;
        }

        /// <summary>The JSON type.</summary>
        public abstract JsonKind Kind { get; }

        /// <summary>Where the value sits in its document: "" for the root, "adapter.rank", "layers[2]".</summary>
        public string Path
        {
            get { return _path; }
        }

        /// <summary>Wire name of a kind, for error messages.</summary>
        public static string KindName(JsonKind kind)
        {
            switch (kind)
            {
                case JsonKind.Object: return "object";
                case JsonKind.Array: return "array";
                case JsonKind.String: return "string";
                case JsonKind.Number: return "number";
                case JsonKind.Boolean: return "boolean";
                default: return "null";
            }
        }

        /// <summary>Path of a member of the object at <paramref name="parent"/>.</summary>
        public static string MemberPath(string parent, string name)
        {
            return parent.Length == 0 ? name : parent + "." + name;
        }

        /// <summary>Path of an element of the array at <paramref name="parent"/>.</summary>
        public static string ElementPath(string parent, int index)
        {
            return parent + "[" + index.ToString() + "]";
        }

        /// <summary>The WrongType error for this value when <paramref name="expected"/> was wanted.</summary>
        public WireFormatException WrongType(string expected)
        {
            return new WireFormatException(WireErrorCode.WrongType, _path, "expected " + expected + ", found " + KindName(Kind));
        }

        /// <summary>This value as a string, or a WrongType error.</summary>
        public string AsString()
        {
            JsonString? text = this as JsonString;
            if (text == null)
            {
                throw WrongType("string");
            }

            return text.Value;
        }

        /// <summary>This value as an integer in [minimum, maximum], or a WrongType / OutOfRange error.</summary>
        public long AsInt64(long minimum, long maximum)
        {
            JsonNumber? number = this as JsonNumber;
            if (number == null)
            {
                throw WrongType("integer");
            }

            long value;
            if (!number.TryGetInt64(out value))
            {
                if (number.IsInteger)
                {
                    throw new WireFormatException(WireErrorCode.OutOfRange, _path, number.Text + " outside [" + minimum.ToString() + "," + maximum.ToString() + "]");
                }

                throw WrongType("integer");
            }

            if (value < minimum || value > maximum)
            {
                throw new WireFormatException(WireErrorCode.OutOfRange, _path, value.ToString() + " outside [" + minimum.ToString() + "," + maximum.ToString() + "]");
            }

            return value;
        }

        /// <summary>This value as an int in [minimum, maximum], or a WrongType / OutOfRange error.</summary>
        public int AsInt32(int minimum, int maximum)
        {
            return (int)AsInt64(minimum, maximum);
        }

        /// <summary>This value as a finite double in [minimum, maximum], or a WrongType / OutOfRange error.</summary>
        public double AsDouble(double minimum, double maximum)
        {
            JsonNumber? number = this as JsonNumber;
            if (number == null)
            {
                throw WrongType("number");
            }

            double value = number.Value;
            if (value < minimum || value > maximum)
            {
                throw new WireFormatException(WireErrorCode.OutOfRange, _path, number.Text + " outside [" + minimum.ToString() + "," + maximum.ToString() + "]");
            }

            return value;
        }

        /// <summary>This value as a boolean, or a WrongType error.</summary>
        public bool AsBoolean()
        {
            JsonBoolean? flag = this as JsonBoolean;
            if (flag == null)
            {
                throw WrongType("boolean");
            }

            return flag.Value;
        }

        /// <summary>This value as an object, or a WrongType error.</summary>
        public JsonObject AsObject()
        {
            JsonObject? value = this as JsonObject;
            if (value == null)
            {
                throw WrongType("object");
            }

            return value;
        }

        /// <summary>This value as an array, or a WrongType error.</summary>
        public JsonArray AsArray()
        {
            JsonArray? value = this as JsonArray;
            if (value == null)
            {
                throw WrongType("array");
            }

            return value;
        }
    }
}
