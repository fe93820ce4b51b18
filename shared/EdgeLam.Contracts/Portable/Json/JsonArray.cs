namespace EdgeLam.Contracts.Wire.Json
{
    /// <summary>A JSON array.</summary>
    public sealed class JsonArray : JsonValue
    {
        private readonly System.Collections.ArrayList _items = new System.Collections.ArrayList();

        /// <summary>Creates an empty array.</summary>
        public JsonArray(string path)
            : base(path)
        {
        }

        /// <inheritdoc/>
        public override JsonKind Kind
        {
            get { return JsonKind.Array; }
        }

        /// <summary>Number of elements.</summary>
        public int Count
        {
            get { return _items.Count; }
        }

        /// <summary>Element <paramref name="index"/>.</summary>
        public JsonValue Get(int index)
        {
            return (JsonValue)_items[index]!;
        }

        /// <summary>Appends an element.</summary>
        public void Add(JsonValue value)
        {
            if (value == null)
            {
                throw new System.ArgumentNullException(nameof(value));
            }

            _items.Add(value);
        }

        /// <summary>The elements as ints in [minimum, maximum], with at most <paramref name="maximumCount"/> of them.</summary>
        public int[] ToInt32Array(int minimum, int maximum, int maximumCount)
        {
            RequireCountAtMost(maximumCount);
            int[] values = new int[_items.Count];
            for (int i = 0; i < values.Length; i++)
            {
                values[i] = Get(i).AsInt32(minimum, maximum);
            }

            return values;
        }

        /// <summary>The elements as strings, with at most <paramref name="maximumCount"/> of them.</summary>
        public string[] ToStringArray(int maximumCount)
        {
            RequireCountAtMost(maximumCount);
            string[] values = new string[_items.Count];
            for (int i = 0; i < values.Length; i++)
            {
                values[i] = Get(i).AsString();
            }

            return values;
        }

        private void RequireCountAtMost(int maximumCount)
        {
            if (_items.Count > maximumCount)
            {
                throw new WireFormatException(WireErrorCode.OutOfRange, Path, _items.Count.ToString() + " elements, at most " + maximumCount.ToString() + " allowed");
            }
        }
    }
}
