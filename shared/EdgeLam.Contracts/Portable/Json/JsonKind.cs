namespace EdgeLam.Contracts.Wire.Json
{
    /// <summary>The JSON type of a <see cref="JsonValue"/> (RFC 8259 section 3).</summary>
    public enum JsonKind
    {
        /// <summary>An object: unordered in JSON, kept in document order here.</summary>
        Object = 1,

        /// <summary>An array.</summary>
        Array = 2,

        /// <summary>A string.</summary>
        String = 3,

        /// <summary>A number.</summary>
        Number = 4,

        /// <summary>true or false.</summary>
        Boolean = 5,

        /// <summary>null.</summary>
        Null = 6,
    }
}
