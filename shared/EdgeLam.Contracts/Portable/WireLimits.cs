namespace EdgeLam.Contracts.Wire
{
    /// <summary>
    /// Hard limits of the wire format; a receiver refuses anything larger with <see cref="WireErrorCode.Oversize"/>
    /// before allocating for it. A device may impose smaller limits of its own from its board profile.
    /// </summary>
    public static class WireLimits
    {
        /// <summary>Most dimensions of a tensor.</summary>
        public const int MaxRank = 8;

        /// <summary>Most elements of one tensor (4 Mi: a 2048x2048 matrix).</summary>
        public const int MaxElementCount = 4 * 1024 * 1024;

        /// <summary>Most payload bytes of one frame (16 MiB: <see cref="MaxElementCount"/> f32 or i32).</summary>
        public const int MaxPayloadBytes = 16 * 1024 * 1024;

        /// <summary>Most frames in one bundle.</summary>
        public const int MaxBundleFrames = 256;

        /// <summary>Most bytes of a bundle entry name (ASCII).</summary>
        public const int MaxNameLength = 128;

        /// <summary>Most bytes of a bundle's JSON header and of any JSON control message.</summary>
        public const int MaxJsonBytes = 64 * 1024;

        /// <summary>Most nested JSON arrays/objects.</summary>
        public const int MaxJsonDepth = 16;

        /// <summary>Most characters of a JSON number literal.</summary>
        public const int MaxJsonNumberLength = 40;

        /// <summary>Most bytes of a whole bundle: every frame at its limit would not fit an MQTT message anyway.</summary>
        public const int MaxBundleBytes = 64 * 1024 * 1024;
    }
}
