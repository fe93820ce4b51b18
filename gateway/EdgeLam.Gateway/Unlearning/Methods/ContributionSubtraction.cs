using EdgeLam.Gateway.Training;
using EdgeLam.Gateway.Training.Aggregation;

namespace EdgeLam.Gateway.Unlearning.Methods;

/// <summary>
/// subtract: removes the device's last weighted update from the current global aggregate, per projection
/// on the product ΔW (exact for any mix of ranks, FedFT-H): ΔW' = (ΔW·Σw − w_d·ΔW_d)/(Σw − w_d), then
/// refactorizes. Exact when the device's last round is the last round; otherwise it leaves the influence
/// the device had on the later rounds' starting points (the cheap baseline the other methods are measured against).
/// </summary>
public static class ContributionSubtraction
{
    public static GlobalModelState Subtract(GlobalModelState global, IReadOnlyList<StoredContribution> history, string deviceId)
    {
        ArgumentNullException.ThrowIfNull(global);
        ArgumentNullException.ThrowIfNull(history);
        var own = history.Where(c => string.Equals(c.DeviceId, deviceId, StringComparison.Ordinal)).ToArray();
        if (own.Length == 0)
            return global;
        var lastRound = own.Max(c => c.Round);
        var removed = own.Single(c => c.Round == lastRound);
        var round = history.Where(c => c.Round == lastRound).ToArray();

        var adapters = new Dictionary<string, LoraFactors>(global.Parameters.Adapters, StringComparer.Ordinal);
        foreach (var (name, factors) in removed.Parameters.Adapters)
        {
            if (!adapters.TryGetValue(name, out var aggregate))
                continue;
            var total = (double)round.Where(c => c.Parameters.Adapters.ContainsKey(name)).Sum(c => c.ExampleCount);
            var remaining = total - removed.ExampleCount;
            if (remaining <= 0)
            {
                adapters.Remove(name); // the device alone trained this projection: nothing of it remains
                continue;
            }
            var svd = ProductAggregation.StackedDecomposition(
            [
                LowRankTerm.FromFactors(aggregate, total / remaining),
                LowRankTerm.FromFactors(factors, -removed.ExampleCount / remaining),
            ]);
            adapters[name] = aggregate.Scale == 1f
                ? RankRefactorization.ToExactProduct(svd)
                : RankRefactorization.ToFactors(svd, aggregate.Rank, aggregate.Scale, new Random(0));
        }

        var fullWeights = new Dictionary<string, float[]>(global.Parameters.FullWeights, StringComparer.Ordinal);
        foreach (var (name, weights) in removed.Parameters.FullWeights)
        {
            if (!fullWeights.TryGetValue(name, out var average) || average.Length != weights.Length)
                continue;
            var total = (double)round.Where(c => c.Parameters.FullWeights.ContainsKey(name)).Sum(c => c.ExampleCount);
            var remaining = total - removed.ExampleCount;
            if (remaining <= 0)
                continue;
            var result = new float[average.Length];
            for (var i = 0; i < result.Length; i++)
                result[i] = (float)(((average[i] * total) - (weights[i] * (double)removed.ExampleCount)) / remaining);
            fullWeights[name] = result;
        }
        return new GlobalModelState(global.AggregatedRounds, new ModelParameters(adapters, fullWeights));
    }
}
