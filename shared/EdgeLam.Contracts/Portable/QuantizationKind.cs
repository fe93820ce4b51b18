namespace EdgeLam.Contracts.Wire
{
    /// <summary>How integer elements map to real values: real = scale * (q - zeroPoint); the value is the wire byte.</summary>
    public enum QuantizationKind
    {
        /// <summary>Elements are the values themselves.</summary>
        None = 0,

        /// <summary>One scale and zero point for the whole tensor.</summary>
        PerTensor = 1,

        /// <summary>One scale and zero point per index along one axis (e.g. per output channel of a weight).</summary>
        PerChannel = 2,
    }
}
