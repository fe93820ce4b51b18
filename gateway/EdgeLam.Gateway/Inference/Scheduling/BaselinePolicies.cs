namespace EdgeLam.Gateway.Inference.Scheduling;

/// <summary>Baseline: the feasible pair that finishes first (backlog plus compute), ignoring energy and queue balance.</summary>
public sealed class GreedyPolicy : ISchedulingPolicy
{
    public string Name => "greedy";

    public SchedulingCandidate? Choose(StageDecision decision, IReadOnlyList<SchedulingCandidate> feasible)
    {
        ArgumentNullException.ThrowIfNull(feasible);
        return feasible.OrderBy(c => c.ExpectedLatencyMilliseconds).ThenBy(c => c.Device.DeviceId, StringComparer.Ordinal).FirstOrDefault();
    }
}

/// <summary>Baseline: feasible devices take stage tasks in turn, whatever their speed or load.</summary>
public sealed class RoundRobinPolicy : ISchedulingPolicy
{
    private long _turn = -1;

    public string Name => "round_robin";

    public SchedulingCandidate? Choose(StageDecision decision, IReadOnlyList<SchedulingCandidate> feasible)
    {
        ArgumentNullException.ThrowIfNull(feasible);
        var devices = feasible.Select(c => c.Device.DeviceId).Distinct().Order(StringComparer.Ordinal).ToArray();
        if (devices.Length == 0) return null;
        var device = devices[(int)((ulong)Interlocked.Increment(ref _turn) % (ulong)devices.Length)];
        // On the device whose turn it is, the most accurate variant it has loaded.
        return feasible.Where(c => c.Device.DeviceId == device).OrderByDescending(c => c.Variant.SwappedAccuracy).First();
    }
}

/// <summary>
/// Baseline: the whole model on one device. The first stage goes to the device that can serve every stage with the
/// least total compute; every later stage stays on it.
/// </summary>
public sealed class MonolithicPolicy : ISchedulingPolicy
{
    public string Name => "monolithic";

    public SchedulingCandidate? Choose(StageDecision decision, IReadOnlyList<SchedulingCandidate> feasible)
    {
        ArgumentNullException.ThrowIfNull(decision);
        ArgumentNullException.ThrowIfNull(feasible);
        if (decision.Chosen.Count > 0)
        {
            var pinned = decision.Chosen[0].Device.DeviceId;
            return feasible.Where(c => c.Device.DeviceId == pinned).OrderByDescending(c => c.Variant.SwappedAccuracy).FirstOrDefault();
        }

        var stages = decision.Portfolio.Stages.Count;
        return feasible.GroupBy(c => c.Device.DeviceId)
            .Where(g => Enumerable.Range(0, stages).All(s => decision.Pairs.Any(p => p.Device.DeviceId == g.Key && p.Variant.StageIndex == s)))
            .Select(g => (First: g.OrderByDescending(c => c.Variant.SwappedAccuracy).First(),
                Total: Enumerable.Range(0, stages).Sum(s => decision.Pairs.Where(p => p.Device.DeviceId == g.Key && p.Variant.StageIndex == s).Min(p => p.ServiceMilliseconds))
                    + g.First().Device.BacklogMilliseconds))
            .OrderBy(x => x.Total).ThenBy(x => x.First.Device.DeviceId, StringComparer.Ordinal)
            .Select(x => x.First).FirstOrDefault();
    }
}
