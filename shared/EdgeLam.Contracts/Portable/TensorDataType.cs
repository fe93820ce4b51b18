namespace EdgeLam.Contracts.Wire
{
    /// <summary>Element type of a tensor frame; the numeric value is the dtype byte on the wire.</summary>
    public enum TensorDataType
    {
        /// <summary>IEEE 754 binary32, 4 bytes little-endian.</summary>
        Float32 = 1,

        /// <summary>IEEE 754 binary16, 2 bytes little-endian.</summary>
        Float16 = 2,

        /// <summary>Signed 8-bit integer.</summary>
        Int8 = 3,

        /// <summary>Unsigned 8-bit integer.</summary>
        UInt8 = 4,

        /// <summary>Signed 32-bit integer, 4 bytes little-endian (e.g. quantized biases, token ids).</summary>
        Int32 = 5,
    }
}
