namespace EdgeLam.Contracts.Wire
{
    /// <summary>What is wrong with a received payload; WIRE.md lists the receiver's action for each.</summary>
    public enum WireErrorCode
    {
        /// <summary>The data ends before a field or payload it announces.</summary>
        Truncated = 1,

        /// <summary>The first four bytes are not the frame or bundle magic.</summary>
        BadMagic = 2,

        /// <summary>The format version is not one this codec reads.</summary>
        UnsupportedVersion = 3,

        /// <summary>The dtype byte names no known element type.</summary>
        UnknownDtype = 4,

        /// <summary>Quantization kind, axis, scale or zero point is invalid for the dtype and shape.</summary>
        BadQuantization = 5,

        /// <summary>The payload length differs from element count times element size.</summary>
        ShapePayloadMismatch = 6,

        /// <summary>A rank, element count, payload, name, header or document exceeds a limit of <see cref="WireLimits"/>.</summary>
        Oversize = 7,

        /// <summary>The CRC-32 stored in the data differs from the one computed over it.</summary>
        CrcMismatch = 8,

        /// <summary>A floating-point payload or field holds NaN or an infinity.</summary>
        NonFinite = 9,

        /// <summary>Bytes follow a complete frame, bundle or JSON document.</summary>
        TrailingData = 10,

        /// <summary>A bundle entry name is empty or has characters outside [A-Za-z0-9._/-].</summary>
        BadName = 11,

        /// <summary>Two bundle entries or two JSON object members share a name.</summary>
        DuplicateName = 12,

        /// <summary>The bytes are not JSON (RFC 8259) or not the JSON shape expected (e.g. not an object).</summary>
        MalformedJson = 13,

        /// <summary>A string is not well-formed UTF-8.</summary>
        InvalidUtf8 = 14,

        /// <summary>JSON nesting is deeper than <see cref="WireLimits.MaxJsonDepth"/>.</summary>
        TooDeep = 15,

        /// <summary>A required message field is absent (or null).</summary>
        MissingField = 16,

        /// <summary>A message field has another JSON type than the contract says.</summary>
        WrongType = 17,

        /// <summary>A message field is outside its documented range or length.</summary>
        OutOfRange = 18,

        /// <summary>A message field holds a value outside its documented set of names.</summary>
        UnknownValue = 19,

        /// <summary>Fields contradict each other or the topic (e.g. both url and inline bytes).</summary>
        Inconsistent = 20,
    }
}
