using EdgeLam.Gateway.Persistence;
using EdgeLam.Gateway.Training;
using EdgeLam.Gateway.Training.Rounds;

namespace EdgeLam.Gateway.Unlearning.Methods;

/// <summary>One device's update in one round, decoded: exactly what that round's aggregation used.</summary>
public sealed record StoredContribution(int Round, string DeviceId, long ExampleCount, ModelParameters Parameters)
{
    public TrainingReply ToReply() => new(DeviceId, (int)Math.Clamp(ExampleCount, 0, int.MaxValue), Parameters, 0);
}

/// <summary>Reads the stored training history that unlearning methods work on.</summary>
public static class StoredHistory
{
    /// <summary>Every stored contribution, decoded, ordered by round then device.</summary>
    public static IReadOnlyList<StoredContribution> Load(GatewayStore store)
    {
        ArgumentNullException.ThrowIfNull(store);
        return store.Contributions().Select(Decode).ToArray();
    }

    public static StoredContribution Decode(ContributionRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        try
        {
            return new StoredContribution(record.Round, record.DeviceId, record.ExampleCount, ModelParametersCodec.Decode(record.Payload).Parameters);
        }
        catch (Exception ex) when (ex is EdgeLam.Contracts.Wire.WireFormatException or InvalidDataException or System.Text.Json.JsonException)
        {
            throw new InvalidDataException($"Stored contribution of device {record.DeviceId} in round {record.Round} cannot be decoded: {ex.Message}", ex);
        }
    }
}
