namespace EdgeLam.Gateway.Inference;

/// <summary>A device that can take stages, for <see cref="StageAssignment.Plan"/>.</summary>
/// <param name="DeviceId">Device id.</param>
/// <param name="Runnable">Stage indices it can run at all (precision, memory, an artifact for its tier).</param>
/// <param name="Held">Stage indices it holds now.</param>
/// <param name="Standby">
/// True for a device too slow to serve a stage within a request's latency (an MCU): it holds a stage only as a failover
/// replica beside a device that is not standby, unless no such device can run the stage at all.
/// </param>
public sealed record StageHost(string DeviceId, IReadOnlySet<int> Runnable, IReadOnlySet<int> Held, bool Standby = false);

/// <summary>
/// Which stages each device holds when the model is served as partitioned microservices: every stage on
/// <c>replicas</c> devices (fewer when fewer can run it), at least one of them not on standby, the stage bytes spread
/// so that the most loaded device holds as few as it can, and each device a small part of the model while requests
/// pipeline across the fleet. Holdings that still fit are kept, so a device coming or going moves as few stages as it can.
/// </summary>
public static class StageAssignment
{
    /// <param name="stageWeights">Weight of each stage (the bytes of the variant it is held in); the balance is by weight.</param>
    /// <param name="hosts">Online devices, in a stable order.</param>
    /// <param name="replicas">Devices per stage, at least 1.</param>
    public static IReadOnlyDictionary<string, IReadOnlySet<int>> Plan(IReadOnlyList<double> stageWeights, IReadOnlyList<StageHost> hosts, int replicas)
    {
        ArgumentNullException.ThrowIfNull(stageWeights);
        ArgumentNullException.ThrowIfNull(hosts);
        ArgumentOutOfRangeException.ThrowIfLessThan(replicas, 1);
        var held = hosts.ToDictionary(h => h.DeviceId, h => h.Held.Where(h.Runnable.Contains).ToHashSet(), StringComparer.Ordinal);
        double Load(StageHost host) => held[host.DeviceId].Sum(s => stageWeights[s]);
        // Lightest first; on a tie a serving device before a standby one, then the one holding fewer stages.
        StageHost? Lightest(IEnumerable<StageHost> candidates) =>
            candidates.OrderBy(h => Load(h)).ThenBy(h => h.Standby).ThenBy(h => held[h.DeviceId].Count).FirstOrDefault();
        bool ServingHolderNeeded(int stage) => hosts.Any(h => !h.Standby && h.Runnable.Contains(stage));
        bool Covered(int stage) => !ServingHolderNeeded(stage) || hosts.Any(h => !h.Standby && held[h.DeviceId].Contains(stage));

        // Heaviest stages first, so that they land on distinct devices.
        var order = Enumerable.Range(0, stageWeights.Count).OrderByDescending(s => stageWeights[s]).ThenBy(s => s).ToArray();
        foreach (var stage in order)
        {
            if (!Covered(stage)) held[Lightest(hosts.Where(h => !h.Standby && h.Runnable.Contains(stage)))!.DeviceId].Add(stage);
            // Too many copies: standby holders let go first, then the most loaded, never the last serving holder.
            var holders = hosts.Where(h => held[h.DeviceId].Contains(stage)).OrderByDescending(h => h.Standby).ThenByDescending(Load).ToList();
            foreach (var holder in holders)
            {
                if (hosts.Count(h => held[h.DeviceId].Contains(stage)) <= replicas) break;
                held[holder.DeviceId].Remove(stage);
                if (!Covered(stage)) held[holder.DeviceId].Add(stage);
            }

            while (hosts.Count(h => held[h.DeviceId].Contains(stage)) < replicas)
            {
                var taker = Lightest(hosts.Where(h => h.Runnable.Contains(stage) && !held[h.DeviceId].Contains(stage)));
                if (taker is null) break;
                held[taker.DeviceId].Add(stage);
            }
        }

        Even(stageWeights, hosts, held, Load, Covered);
        return held.ToDictionary(pair => pair.Key, pair => (IReadOnlySet<int>)pair.Value, StringComparer.Ordinal);
    }

    /// <summary>
    /// Moves a stage off the most loaded device while that lowers the largest load, or keeps it and lowers the sum of
    /// squared loads (a stage lighter than the gap between the two devices), and every stage keeps a serving holder.
    /// </summary>
    private static void Even(IReadOnlyList<double> stageWeights, IReadOnlyList<StageHost> hosts, Dictionary<string, HashSet<int>> held,
        Func<StageHost, double> load, Func<int, bool> covered)
    {
        for (var moves = 0; moves < 4 * stageWeights.Count * Math.Max(1, hosts.Count); moves++)
        {
            var heavy = hosts.OrderByDescending(load).FirstOrDefault();
            if (heavy is null) return;
            var heaviest = load(heavy);
            var best = (Stage: -1, To: (StageHost?)null, Max: heaviest, Gain: 0.0);
            foreach (var stage in held[heavy.DeviceId].ToArray())
            {
                foreach (var to in hosts.Where(h => h.Runnable.Contains(stage) && !held[h.DeviceId].Contains(stage)))
                {
                    var weight = stageWeights[stage];
                    var target = load(to);
                    // Sum of squares falls by 2w(H - L - w) when w moves from load H to load L.
                    var gain = 2 * weight * (heaviest - target - weight);
                    if (gain <= 1e-9) continue;
                    held[heavy.DeviceId].Remove(stage);
                    held[to.DeviceId].Add(stage);
                    var max = hosts.Max(load);
                    var keepsServing = covered(stage);
                    held[to.DeviceId].Remove(stage);
                    held[heavy.DeviceId].Add(stage);
                    if (keepsServing && (max < best.Max - 1e-9 || (Math.Abs(max - best.Max) <= 1e-9 && gain > best.Gain)))
                        best = (stage, to, max, gain);
                }
            }

            if (best.To is null) return;
            held[heavy.DeviceId].Remove(best.Stage);
            held[best.To.DeviceId].Add(best.Stage);
        }
    }
}
