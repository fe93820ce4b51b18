using EdgeLam.Gateway.Training;

namespace EdgeLam.Gateway.Unlearning.Methods;

/// <summary>
/// exact_recompute: aggregates every stored round again, in round order, with the strategy that ran it and
/// without the forgotten device. Exact for the stored history (the other devices' updates are kept as they
/// were trained); no device has to train.
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
        var global = initial ?? GlobalModelState.Initial;
        foreach (var round in history.GroupBy(c => c.Round).OrderBy(g => g.Key))
        {
            var replies = round
                .Where(c => !string.Equals(c.DeviceId, excludedDeviceId, StringComparison.Ordinal))
                .OrderBy(c => c.DeviceId, StringComparer.Ordinal)
                .Select(c => c.ToReply())
                .ToArray();
            if (replies.Length == 0)
                continue; // only the forgotten device took part: the round never happened for the others
            var context = new RoundContext(round.Key, global, layout, hyperparameters);
            global = strategyOfRound(round.Key).AggregateTrain(context, replies, []).Global;
        }
        return global;
    }
}
