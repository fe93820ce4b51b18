namespace EdgeLam.Contracts.Wire
{
    /// <summary>
    /// The only exception the wire codec throws for bad input: a frame, bundle, JSON document or message
    /// that breaks the contract. <see cref="Code"/> says what is wrong, <see cref="Field"/> names the message
    /// field or frame part concerned when there is one.
    /// </summary>
    public class WireFormatException : System.Exception
    {
        private readonly WireErrorCode _code;
        private readonly string _field;

        /// <summary>Creates an error with a code and a message that names what is wrong.</summary>
        public WireFormatException(WireErrorCode code, string message)
            : this(code, string.Empty, message)
        {
        }

        /// <summary>Creates an error about a named field or part.</summary>
        public WireFormatException(WireErrorCode code, string field, string message)
            : base(WireErrors.Name(code) + (field.Length > 0 ? " (" + field + "): " : ": ") + message)
        {
            _code = code;
            _field = field;
        }

        /// <summary>Creates an error with no specific code; prefer the coded constructors.</summary>
        public WireFormatException()
            : this(WireErrorCode.MalformedJson, "malformed wire data")
        {
        }

        /// <summary>Creates an error with no specific code; prefer the coded constructors.</summary>
        public WireFormatException(string message)
            : this(WireErrorCode.MalformedJson, message)
        {
        }

        /// <summary>Creates an error with no specific code; prefer the coded constructors.</summary>
        public WireFormatException(string message, System.Exception innerException)
            : base(message, innerException)
        {
            _code = WireErrorCode.MalformedJson;
            _field = string.Empty;
        }

        /// <summary>What is wrong.</summary>
        public WireErrorCode Code
        {
            get { return _code; }
        }

        /// <summary>The message field (e.g. "layers[2]") or frame part concerned; empty when none.</summary>
        public string Field
        {
            get { return _field; }
        }
    }
}
