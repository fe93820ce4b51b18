namespace EdgeLam.Gateway.Inference;

/// <summary>A device that can take stages, for <see cref="StageAssignment.Plan"/>.</summary>
/// <param name="DeviceId">Device id.</param>
/// <param name="Runnable">Stage indices it can run at all (precision, memory, an artifact for its tier).</param>
/// <param name="Held">Stage indices it holds now.</param>
public sealed record StageHost(string DeviceId, IReadOnlySet<int> Runnable, IReadOnlySet<int> Held);

/// <summary>
/// Which stages each device holds when the model is served as partitioned microservices: every stage on
/// <c>replicas</c> devices (fewer when fewer can run it), the stage weight spread evenly, so that each device holds a
/// small part of the model and requests pipeline across the fleet. Holdings that still fit are kept, so a device
/// coming or going moves as few stages as it can.
/// </summary>
public static class StageAssignment
{
    /// <param name="stageWeights">Relative weight of each stage (e.g. its FP32 bytes); the balance is by weight.</param>
    /// <param name="hosts">Online devices, in a stable order.</param>
    /// <param name="replicas">Devices per stage, at least 1.</param>
    public static IReadOnlyDictionary<string, IReadOnlySet<int>> Plan(IReadOnlyList<double> stageWeights, IReadOnlyList<StageHost> hosts, int replicas)
    {
        ArgumentNullException.ThrowIfNull(stageWeights);
        ArgumentNullException.ThrowIfNull(hosts);
        ArgumentOutOfRangeException.ThrowIfLessThan(replicas, 1);
        var held = hosts.ToDictionary(h => h.DeviceId, h => h.Held.Where(h.Runnable.Contains).ToHashSet(), StringComparer.Ordinal);
        double Load(string deviceId) => held[deviceId].Sum(s => stageWeights[s]);
        StageHost? Lightest(IEnumerable<StageHost> candidates) =>
            candidates.OrderBy(h => Load(h.DeviceId)).ThenBy(h => held[h.DeviceId].Count).FirstOrDefault();

        // Heaviest stages first, so that they land on distinct devices.
        var order = Enumerable.Range(0, stageWeights.Count).OrderByDescending(s => stageWeights[s]).ThenBy(s => s).ToArray();
        foreach (var stage in order)
        {
            var holders = hosts.Where(h => held[h.DeviceId].Contains(stage)).ToList();
            // Too many copies: the most loaded holders let go.
            foreach (var extra in holders.OrderByDescending(h => Load(h.DeviceId)).Take(Math.Max(0, holders.Count - replicas)).ToArray())
                held[extra.DeviceId].Remove(stage);
            while (hosts.Count(h => held[h.DeviceId].Contains(stage)) < replicas)
            {
                var taker = Lightest(hosts.Where(h => h.Runnable.Contains(stage) && !held[h.DeviceId].Contains(stage)));
                if (taker is null) break;
                held[taker.DeviceId].Add(stage);
            }
        }

        // Even out: move a stage from the most to the least loaded device while that narrows the gap.
        for (var moves = 0; moves < 4 * stageWeights.Count * Math.Max(1, hosts.Count); moves++)
        {
            var heavy = hosts.OrderByDescending(h => Load(h.DeviceId)).FirstOrDefault();
            if (heavy is null) break;
            var best = (Stage: -1, To: (StageHost?)null, Gap: Load(heavy.DeviceId) - hosts.Min(h => Load(h.DeviceId)));
            foreach (var stage in held[heavy.DeviceId])
            {
                foreach (var to in hosts.Where(h => h.Runnable.Contains(stage) && !held[h.DeviceId].Contains(stage)))
                {
                    var after = hosts.Select(h => Load(h.DeviceId)
                        - (h == heavy ? stageWeights[stage] : 0) + (h == to ? stageWeights[stage] : 0)).ToArray();
                    var gap = after.Max() - after.Min();
                    if (gap < best.Gap - 1e-9) best = (stage, to, gap);
                }
            }

            if (best.To is null) break;
            held[heavy.DeviceId].Remove(best.Stage);
            held[best.To.DeviceId].Add(best.Stage);
        }

        return held.ToDictionary(pair => pair.Key, pair => (IReadOnlySet<int>)pair.Value, StringComparer.Ordinal);
    }
}
