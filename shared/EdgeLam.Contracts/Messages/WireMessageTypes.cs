namespace EdgeLam.Contracts.Messages;

/// <summary>Every message and bundle-header type of the contract by name, with its validating decoder (WIRE.md section 5).</summary>
public static class WireMessageTypes
{
    /// <summary>JSON messages: type name → decoder that throws only <see cref="Wire.WireFormatException"/>.</summary>
    public static IReadOnlyDictionary<string, Func<byte[], IWireMessage>> Messages { get; } = new Dictionary<string, Func<byte[], IWireMessage>>(StringComparer.Ordinal)
    {
        [nameof(DeviceHello)] = WireMessages.Decode<DeviceHello>,
        [nameof(DeviceStatus)] = WireMessages.Decode<DeviceStatus>,
        [nameof(DeviceHeartbeat)] = WireMessages.Decode<DeviceHeartbeat>,
        [nameof(DeploymentAck)] = WireMessages.Decode<DeploymentAck>,
        [nameof(TrainingAssignment)] = WireMessages.Decode<TrainingAssignment>,
        [nameof(LoraUpdateHeader)] = WireMessages.Decode<LoraUpdateHeader>,
        [nameof(AdapterHeader)] = WireMessages.Decode<AdapterHeader>,
        [nameof(InferenceRequestHeader)] = WireMessages.Decode<InferenceRequestHeader>,
        [nameof(InferenceResultHeader)] = WireMessages.Decode<InferenceResultHeader>,
        [nameof(Deployment)] = WireMessages.Decode<Deployment>,
        [nameof(Rejection)] = WireMessages.Decode<Rejection>,
        [nameof(GatewayStatus)] = WireMessages.Decode<GatewayStatus>,
        [nameof(GatewayEvent)] = WireMessages.Decode<GatewayEvent>,
        [nameof(OperatorCommand)] = WireMessages.Decode<OperatorCommand>,
    };

    /// <summary>Bundles: header type name → decoder of the whole bundle with that validated header.</summary>
    public static IReadOnlyDictionary<string, Func<byte[], object>> Bundles { get; } = new Dictionary<string, Func<byte[], object>>(StringComparer.Ordinal)
    {
        [nameof(LoraUpdateHeader)] = MessageBundle<LoraUpdateHeader>.Decode,
        [nameof(AdapterHeader)] = MessageBundle<AdapterHeader>.Decode,
        [nameof(InferenceRequestHeader)] = MessageBundle<InferenceRequestHeader>.Decode,
        [nameof(InferenceResultHeader)] = MessageBundle<InferenceResultHeader>.Decode,
    };
}
