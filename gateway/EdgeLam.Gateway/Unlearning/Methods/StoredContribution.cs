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

/// <summary>
/// The stored history decoded once and kept in memory: a refresh reads only the keys of the store and
/// decodes the contributions it has not seen, so unlearning recomputes from de-quantized factors without
/// re-reading or re-decoding rounds it already holds. Deleted contributions drop out on the next refresh.
/// </summary>
public sealed class ContributionHistory
{
    private readonly Lock _gate = new();
    private readonly Dictionary<(int Round, string DeviceId), StoredContribution> _decoded = [];

    /// <summary>Brings the decoded history up to date with <paramref name="store"/> and returns it, ordered by round then device.</summary>
    public IReadOnlyList<StoredContribution> Refresh(GatewayStore store)
    {
        ArgumentNullException.ThrowIfNull(store);
        lock (_gate)
        {
            var keys = store.ContributionKeys();
            var present = keys.Select(k => (k.Round, k.DeviceId)).ToHashSet();
            foreach (var gone in _decoded.Keys.Where(k => !present.Contains(k)).ToArray())
                _decoded.Remove(gone);
            foreach (var (round, deviceId, exampleCount) in keys)
            {
                if (_decoded.TryGetValue((round, deviceId), out var known) && known.ExampleCount == exampleCount)
                    continue;
                var record = store.Contribution(round, deviceId)
                    ?? throw new InvalidDataException($"Stored contribution of device {deviceId} in round {round} disappeared while it was read.");
                _decoded[(round, deviceId)] = StoredHistory.Decode(record);
            }
            return [.. _decoded.Values.OrderBy(c => c.Round).ThenBy(c => c.DeviceId, StringComparer.Ordinal)];
        }
    }
}
