using EdgeLam.Gateway.Training;

namespace EdgeLam.Gateway.Unlearning.Methods;

/// <summary>
/// exact_recompute: aggregates every stored round again, in round order, with the strategy that ran it and
/// without the forgotten device. Exact for the stored history (the other devices' updates are kept as they
/// were trained); no device has to train. A round of a strategy that averages changes (FedFT-H) whose
/// contributions carry the start they were sent adds the weighted mean of the remaining devices' changes
/// (upload − start) to the recomputed global: a device's upload still holds the start it was sent, which the
/// forgotten device had shaped, and only its change is its own. When a strategy aggregates each tensor from its own round only,
/// a tensor that a later round aggregates again is not recomputed for the earlier round: the result is
/// the same, only the work that the later round overwrites is skipped.
/// </summary>
public static class HistoryReplay
{
    /// <summary>The global state the stored history gives without <paramref name="excludedDeviceId"/> (null: nobody excluded).</summary>
    public static GlobalModelState Replay(
        IReadOnlyList<StoredContribution> history, string? excludedDeviceId, IFederatedStrategy strategy,
        AdapterLayout layout, TrainingHyperparameters hyperparameters, GlobalModelState? initial = null) =>
        Replay(history, excludedDeviceId, _ => strategy, layout, hyperparameters, initial);

    /// <summary>As <see cref="Replay(IReadOnlyList{StoredContribution}, string?, IFederatedStrategy, AdapterLayout, TrainingHyperparameters, GlobalModelState?)"/>, with the strategy of each round.</summary>
    public static GlobalModelState Replay(
        IReadOnlyList<StoredContribution> history, string? excludedDeviceId, Func<int, IFederatedStrategy> strategyOfRound,
        AdapterLayout layout, TrainingHyperparameters hyperparameters, GlobalModelState? initial = null)
    {
        ArgumentNullException.ThrowIfNull(history);
        ArgumentNullException.ThrowIfNull(strategyOfRound);
        ArgumentNullException.ThrowIfNull(layout);
        ArgumentNullException.ThrowIfNull(hyperparameters);
        var rounds = history
            .Where(c => !string.Equals(c.DeviceId, excludedDeviceId, StringComparison.Ordinal))
            .GroupBy(c => c.Round)
            .OrderBy(g => g.Key)
            .Select(g => Round(g.Key, strategyOfRound(g.Key), [.. g.OrderBy(c => c.DeviceId, StringComparer.Ordinal)]))
            .ToArray(); // a round only the forgotten device took part in never happened for the others
        var needed = TensorsStillNeeded(rounds);

        var global = initial ?? GlobalModelState.Initial;
        for (var i = 0; i < rounds.Length; i++)
        {
            var round = rounds[i];
            if (round.Changes is { } changes)
            {
                global = ContributionChange.ApplyRound(global, changes);
                continue;
            }
            var replies = needed[i] is { } tensors ? Restrict(round.Replies, tensors) : round.Replies;
            if (replies.Count == 0)
            {
                global = global with { AggregatedRounds = global.AggregatedRounds + 1 }; // every tensor it aggregated is aggregated again later
                continue;
            }
            global = round.Strategy.AggregateGlobal(new RoundContext(round.Round, global, layout, hyperparameters), replies);
        }
        return global;
    }

    /// <param name="Changes">Each contribution's change, when the strategy averages changes and every start is stored; otherwise null.</param>
    private sealed record ReplayedRound(int Round, IFederatedStrategy Strategy, IReadOnlyList<TrainingReply> Replies, IReadOnlyList<ContributionChange>? Changes);

    private static ReplayedRound Round(int round, IFederatedStrategy strategy, IReadOnlyList<StoredContribution> contributions)
    {
        var changes = strategy.AggregatesChangesFromStart ? contributions.Select(ContributionChange.Of).OfType<ContributionChange>().ToArray() : [];
        return new ReplayedRound(round, strategy, [.. contributions.Select(c => c.ToReply())],
            strategy.AggregatesChangesFromStart && changes.Length == contributions.Count ? changes : null);
    }

    /// <summary>
    /// Per round, the tensors whose aggregate survives to the end (null: all of them, because a later round's
    /// strategy starts from the whole previous global). Walks backwards, collecting the tensors later rounds overwrite.
    /// </summary>
    private static HashSet<string>?[] TensorsStillNeeded(IReadOnlyList<ReplayedRound> rounds)
    {
        var needed = new HashSet<string>?[rounds.Count];
        var overwrittenLater = new HashSet<string>(StringComparer.Ordinal);
        for (var i = rounds.Count - 1; i >= 0; i--)
        {
            if (!rounds[i].Strategy.AggregatesEachTensorFromItsRoundOnly)
                return needed; // this round and every earlier one stay whole (null)
            var trained = rounds[i].Replies.SelectMany(TensorNames).ToHashSet(StringComparer.Ordinal);
            needed[i] = [.. trained.Except(overwrittenLater)];
            overwrittenLater.UnionWith(trained);
        }
        return needed;
    }

    private static IEnumerable<string> TensorNames(TrainingReply reply) =>
        reply.Trained.Adapters.Keys.Select(name => "adapter." + name).Concat(reply.Trained.FullWeights.Keys.Select(name => "full." + name));

    /// <summary>The replies cut down to <paramref name="tensors"/>; a reply left with nothing is dropped (per-tensor weights only count senders).</summary>
    private static List<TrainingReply> Restrict(IReadOnlyList<TrainingReply> replies, HashSet<string> tensors)
    {
        var restricted = new List<TrainingReply>(replies.Count);
        foreach (var reply in replies)
        {
            var adapters = reply.Trained.Adapters.Where(a => tensors.Contains("adapter." + a.Key)).ToDictionary(a => a.Key, a => a.Value, StringComparer.Ordinal);
            var full = reply.Trained.FullWeights.Where(w => tensors.Contains("full." + w.Key)).ToDictionary(w => w.Key, w => w.Value, StringComparer.Ordinal);
            if (adapters.Count + full.Count > 0)
                restricted.Add(reply with { Trained = new ModelParameters(adapters, full) });
        }
        return restricted;
    }
}
