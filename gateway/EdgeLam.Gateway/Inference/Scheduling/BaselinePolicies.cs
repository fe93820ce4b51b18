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
/// Baseline: the whole model on one edge device. Every request runs on the same device: the one that can serve
/// every stage with the least total compute, chosen at the first request and kept while it can serve; the most
/// accurate variant it holds per stage.
/// </summary>
public sealed class MonolithicPolicy : ISchedulingPolicy
{
    private string? _device;

    public string Name => "monolithic";

    /// <summary>The device every request runs on, once chosen.</summary>
    public string? Device => Volatile.Read(ref _device);

    public SchedulingCandidate? Choose(StageDecision decision, IReadOnlyList<SchedulingCandidate> feasible)
    {
        ArgumentNullException.ThrowIfNull(decision);
        ArgumentNullException.ThrowIfNull(feasible);
        var pinned = decision.Chosen.Count > 0 ? decision.Chosen[0].Device.DeviceId : Device;
        // While the one device can serve, requests it cannot take in time are refused, not moved to another device.
        if (pinned is not null && (decision.Chosen.Count > 0 || ServesEveryStage(decision, pinned)))
            return feasible.Where(c => c.Device.DeviceId == pinned).OrderByDescending(c => c.Variant.SwappedAccuracy).FirstOrDefault();

        var stages = decision.Portfolio.Stages.Count;
        var first = feasible.GroupBy(c => c.Device.DeviceId)
            .Where(g => ServesEveryStage(decision, g.Key))
            .Select(g => (First: g.OrderByDescending(c => c.Variant.SwappedAccuracy).First(),
                Total: Enumerable.Range(0, stages).Sum(s => decision.Pairs.Where(p => p.Device.DeviceId == g.Key && p.Variant.StageIndex == s).Min(p => p.ServiceMilliseconds))
                    + g.First().Device.BacklogMilliseconds))
            .OrderBy(x => x.Total).ThenBy(x => x.First.Device.DeviceId, StringComparer.Ordinal)
            .Select(x => x.First).FirstOrDefault();
        if (first is not null) Volatile.Write(ref _device, first.Device.DeviceId);
        return first;
    }

    private static bool ServesEveryStage(StageDecision decision, string deviceId) =>
        Enumerable.Range(0, decision.Portfolio.Stages.Count).All(s => decision.Pairs.Any(p => p.Device.DeviceId == deviceId && p.Device.Online && p.Variant.StageIndex == s));
}
