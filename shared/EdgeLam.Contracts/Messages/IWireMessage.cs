namespace EdgeLam.Contracts.Messages;

/// <summary>A JSON control message of the contract (WIRE.md, "Messages").</summary>
public interface IWireMessage
{
    /// <summary>Checks ranges and cross-field rules; throws <see cref="Wire.WireFormatException"/> naming the field.</summary>
    void Validate();
}
