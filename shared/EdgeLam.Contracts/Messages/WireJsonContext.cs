using System.Text.Json.Serialization;

namespace EdgeLam.Contracts.Messages;

/// <summary>Source-generated System.Text.Json metadata for every control message: camelCase, nulls omitted, enums as names.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    UseStringEnumConverter = true,
    WriteIndented = false)]
[JsonSerializable(typeof(DeviceHello))]
[JsonSerializable(typeof(DeviceStatus))]
[JsonSerializable(typeof(DeviceHeartbeat))]
[JsonSerializable(typeof(DeploymentAck))]
[JsonSerializable(typeof(TrainingAssignment))]
[JsonSerializable(typeof(LoraUpdateHeader))]
[JsonSerializable(typeof(AdapterHeader))]
[JsonSerializable(typeof(InferenceRequestHeader))]
[JsonSerializable(typeof(InferenceResultHeader))]
[JsonSerializable(typeof(Deployment))]
[JsonSerializable(typeof(Rejection))]
[JsonSerializable(typeof(GatewayStatus))]
[JsonSerializable(typeof(GatewayEvent))]
[JsonSerializable(typeof(OperatorCommand))]
public sealed partial class WireJsonContext : JsonSerializerContext
{
}
