namespace EdgeLam.Contracts.Wire
{
    /// <summary>Stable names of <see cref="WireErrorCode"/> values, as used in WIRE.md and tests/golden/manifest.json.</summary>
    public static class WireErrors
    {
        /// <summary>The code's name; enum names are not available at run time on the device.</summary>
        public static string Name(WireErrorCode code)
        {
            switch (code)
            {
                case WireErrorCode.Truncated: return "Truncated";
                case WireErrorCode.BadMagic: return "BadMagic";
                case WireErrorCode.UnsupportedVersion: return "UnsupportedVersion";
                case WireErrorCode.UnknownDtype: return "UnknownDtype";
                case WireErrorCode.BadQuantization: return "BadQuantization";
                case WireErrorCode.ShapePayloadMismatch: return "ShapePayloadMismatch";
                case WireErrorCode.Oversize: return "Oversize";
                case WireErrorCode.CrcMismatch: return "CrcMismatch";
                case WireErrorCode.NonFinite: return "NonFinite";
                case WireErrorCode.TrailingData: return "TrailingData";
                case WireErrorCode.BadName: return "BadName";
                case WireErrorCode.DuplicateName: return "DuplicateName";
                case WireErrorCode.MalformedJson: return "MalformedJson";
                case WireErrorCode.InvalidUtf8: return "InvalidUtf8";
                case WireErrorCode.TooDeep: return "TooDeep";
                case WireErrorCode.MissingField: return "MissingField";
                case WireErrorCode.WrongType: return "WrongType";
                case WireErrorCode.OutOfRange: return "OutOfRange";
                case WireErrorCode.UnknownValue: return "UnknownValue";
                case WireErrorCode.Inconsistent: return "Inconsistent";
                default: return "Unknown";
            }
        }
    }
}
