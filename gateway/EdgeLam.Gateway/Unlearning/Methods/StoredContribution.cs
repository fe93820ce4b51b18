using EdgeLam.Gateway.Persistence;
using EdgeLam.Gateway.Training;
using EdgeLam.Gateway.Training.Rounds;

namespace EdgeLam.Gateway.Unlearning.Methods;

/// <summary>One device's update in one round, decoded: exactly what that round's aggregation used.</summary>
/// <param name="Start">The adapters the gateway sent the device to start the round from (null when the round stored no plan).</param>
public sealed record StoredContribution(int Round, string DeviceId, long ExampleCount, ModelParameters Parameters, ModelParameters? Start = null)
{
    public TrainingReply ToReply() => new(DeviceId, (int)Math.Clamp(ExampleCount, 0, int.MaxValue), Parameters, 0);
}

/// <summary>Reads the stored training history that unlearning methods work on.</summary>
public static class StoredHistory
{
    /// <summary>Every stored contribution, decoded with the start it was sent, ordered by round then device.</summary>
    public static IReadOnlyList<StoredContribution> Load(GatewayStore store)
    {
        ArgumentNullException.ThrowIfNull(store);
        return store.Contributions().Select(record => Decode(record, store.AssignedStart(record.Round, record.DeviceId))).ToArray();
    }

    /// <param name="start">The encoded adapters the device was sent for that round, or null.</param>
    public static StoredContribution Decode(ContributionRecord record, byte[]? start = null)
    {
        ArgumentNullException.ThrowIfNull(record);
        try
        {
            return new StoredContribution(record.Round, record.DeviceId, record.ExampleCount, ModelParametersCodec.Decode(record.Payload).Parameters,
                start is null ? null : ModelParametersCodec.Decode(start).Parameters);
        }
        catch (Exception ex) when (ex is EdgeLam.Contracts.Wire.WireFormatException or InvalidDataException or System.Text.Json.JsonException)
        {
            throw new InvalidDataException($"Stored contribution of device {record.DeviceId} in round {record.Round} or the start it was sent cannot be decoded: {ex.Message}", ex);
        }
    }
}

/// <summary>
/// The stored history decoded once and kept in memory: a refresh reads only the keys of the store and
/// decodes the contributions it has not seen, so unlearning recomputes from de-quantized factors without
/// re-reading or re-decoding rounds it already holds. Deleted contributions drop out on the next refresh.
/// Alongside, it keeps each contribution's change and the running sums of a change-averaging history
/// (<see cref="RoundChangeSums"/>), so exact recompute of such a history is a subtraction.
/// </summary>
public sealed class ContributionHistory
{
    private readonly Lock _gate = new();
    private readonly Dictionary<(int Round, string DeviceId), (StoredContribution Contribution, ContributionChange? Change)> _decoded = [];
    private IReadOnlyList<StoredContribution> _ordered = [];
    private int[] _rounds = [];
    private RoundChangeSums? _sums;

    /// <summary>Brings the decoded history up to date with <paramref name="store"/> and returns it, ordered by round then device.</summary>
    public IReadOnlyList<StoredContribution> Refresh(GatewayStore store)
    {
        ArgumentNullException.ThrowIfNull(store);
        lock (_gate)
            return RefreshCore(store);
    }

    /// <summary>
    /// exact_recompute from a refresh of the kept history: the global state of the stored history without
    /// <paramref name="excludedDeviceId"/> (null: nobody). A history whose every round averages changes and whose every
    /// contribution has its start is answered from the running sums; any other is replayed round by round (<see cref="HistoryReplay"/>).
    /// </summary>
    public GlobalModelState Recompute(GatewayStore store, string? excludedDeviceId, Func<int, IFederatedStrategy> strategyOfRound,
        AdapterLayout layout, TrainingHyperparameters hyperparameters) =>
        Recompute(store, excludedDeviceId, strategyOfRound, layout, hyperparameters, withoutReactions: false);

    /// <summary>
    /// The orthogonal method: as <see cref="Recompute(GatewayStore, string?, Func{int, IFederatedStrategy}, AdapterLayout, TrainingHyperparameters)"/>,
    /// and the remaining devices' later changes projected off what <paramref name="excludedDeviceId"/> had contributed
    /// (<see cref="RoundChangeSums.WithoutReactionsTo"/>). A history that does not average changes has no starts to react
    /// through, and gets the plain recompute.
    /// </summary>
    public GlobalModelState RecomputeWithoutReactions(GatewayStore store, string excludedDeviceId, Func<int, IFederatedStrategy> strategyOfRound,
        AdapterLayout layout, TrainingHyperparameters hyperparameters) =>
        Recompute(store, excludedDeviceId, strategyOfRound, layout, hyperparameters, withoutReactions: true);

    private GlobalModelState Recompute(GatewayStore store, string? excludedDeviceId, Func<int, IFederatedStrategy> strategyOfRound,
        AdapterLayout layout, TrainingHyperparameters hyperparameters, bool withoutReactions)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(strategyOfRound);
        lock (_gate)
        {
            var history = RefreshCore(store);
            var averagesChanges = _sums is not null;
            foreach (var round in _rounds)
                averagesChanges &= strategyOfRound(round).AggregatesChangesFromStart;
            if (averagesChanges && withoutReactions && excludedDeviceId is not null)
                return _sums!.WithoutReactionsTo(excludedDeviceId);
            return averagesChanges
                ? _sums!.Without(excludedDeviceId)
                : HistoryReplay.Replay(history, excludedDeviceId, strategyOfRound, layout, hyperparameters);
        }
    }

    private IReadOnlyList<StoredContribution> RefreshCore(GatewayStore store)
    {
        var keys = store.ContributionKeys();
        var changed = false;
        var present = keys.Select(k => (k.Round, k.DeviceId)).ToHashSet();
        foreach (var gone in _decoded.Keys.Where(k => !present.Contains(k)).ToArray())
            changed |= _decoded.Remove(gone);
        foreach (var (round, deviceId, exampleCount) in keys)
        {
            if (_decoded.TryGetValue((round, deviceId), out var known) && known.Contribution.ExampleCount == exampleCount)
                continue;
            var record = store.Contribution(round, deviceId)
                ?? throw new InvalidDataException($"Stored contribution of device {deviceId} in round {round} disappeared while it was read.");
            var contribution = StoredHistory.Decode(record, store.AssignedStart(round, deviceId));
            _decoded[(round, deviceId)] = (contribution, ContributionChange.Of(contribution));
            changed = true;
        }
        if (changed)
        {
            var ordered = _decoded.Values.OrderBy(c => c.Contribution.Round).ThenBy(c => c.Contribution.DeviceId, StringComparer.Ordinal).ToArray();
            _ordered = [.. ordered.Select(c => c.Contribution)];
            _rounds = [.. _ordered.Select(c => c.Round).Distinct()];
            _sums = ordered.All(c => c.Change is not null) ? new RoundChangeSums([.. ordered.Select(c => (c.Contribution, c.Change!))]) : null;
        }
        return _ordered;
    }
}
