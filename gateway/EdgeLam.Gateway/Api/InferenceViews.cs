using EdgeLam.Gateway.Fleet;
using EdgeLam.Gateway.Inference;

namespace EdgeLam.Gateway.Api;

/// <summary>One stage of a scheduled request: where it ran and how long it took.</summary>
public sealed record StageDecisionView(string StageId, string VariantId, string DeviceId, double ComputeMilliseconds, double QueueWaitMilliseconds);

/// <summary>A scheduler decision: the (variant, device) per stage chosen for one request, and its outcome.</summary>
public sealed record SchedulerDecisionView(long RequestId, DateTimeOffset At, string Strategy, bool Succeeded, bool QosMet, double LatencyMilliseconds,
    double MaximumLatencyMilliseconds, double AccuracyEstimate, IReadOnlyList<StageDecisionView> Stages, string? Failure);

/// <summary>A device's queue as the scheduler sees it: backlog of dispatched work and tasks in flight.</summary>
public sealed record DeviceBacklogView(string DeviceId, double BacklogMilliseconds, int TasksInFlight);

/// <summary>Count of served requests whose end-to-end latency fell in (previous bound, <see cref="UpToMilliseconds"/>]; null bounds the last bucket by nothing.</summary>
public sealed record LatencyBucketView(double? UpToMilliseconds, int Requests);

/// <summary>Latency distribution of the requests kept by the orchestrator.</summary>
public sealed record LatencyDistributionView(int Requests, double? P50Milliseconds, double? P95Milliseconds, double? P99Milliseconds, IReadOnlyList<LatencyBucketView> Buckets);

/// <summary>GET /api/inference: recent decisions, per-device backlog, latency distribution and the drift-plus-penalty virtual queues.</summary>
public sealed record InferenceView(IReadOnlyList<SchedulerDecisionView> Decisions, IReadOnlyList<DeviceBacklogView> Backlog, LatencyDistributionView Latency,
    double LatencyVirtualQueue, double AccuracyVirtualQueue)
{
    /// <summary>Decisions listed, newest first.</summary>
    public const int DecisionsShown = 25;

    /// <summary>Upper bounds of the latency histogram, milliseconds (roughly doubling; the last bucket takes the rest).</summary>
    public static readonly double[] BucketBounds = [5, 10, 20, 50, 100, 200, 500, 1000, 2000, double.PositiveInfinity];

    public static InferenceView From(InferenceOrchestrator orchestrator, DeviceRegistry registry)
    {
        ArgumentNullException.ThrowIfNull(orchestrator);
        ArgumentNullException.ThrowIfNull(registry);
        var records = orchestrator.Records;
        var decisions = records.Reverse().Take(DecisionsShown).Select(r => new SchedulerDecisionView(r.RequestId, r.ReceivedAt, r.Result.Strategy.ToString(),
            r.Result.Succeeded, r.Result.QosMet, r.Result.LatencyMilliseconds, r.Qos.MaximumLatency.TotalMilliseconds, r.Result.AccuracyEstimate,
            r.Result.Stages.Select(s => new StageDecisionView(s.StageId, s.VariantId, s.DeviceId, s.ComputeMilliseconds, s.QueueWaitMilliseconds)).ToArray(),
            r.Result.Failure)).ToArray();
        var backlog = registry.Devices.Select(d => new DeviceBacklogView(d.DeviceId, orchestrator.BacklogMilliseconds(d.DeviceId), orchestrator.TasksInFlight(d.DeviceId)))
            .OrderBy(b => b.DeviceId, StringComparer.Ordinal).ToArray();
        var queues = orchestrator.Queues.State;
        return new InferenceView(decisions, backlog, Distribution(records.Where(r => r.Result.Succeeded).Select(r => r.Result.LatencyMilliseconds).ToArray()),
            queues.Latency, queues.Accuracy);
    }

    /// <summary>Histogram over <see cref="BucketBounds"/> and nearest-rank percentiles.</summary>
    public static LatencyDistributionView Distribution(double[] latencies)
    {
        ArgumentNullException.ThrowIfNull(latencies);
        Array.Sort(latencies);
        var buckets = new int[BucketBounds.Length];
        foreach (var latency in latencies) buckets[Array.FindIndex(BucketBounds, bound => latency <= bound)]++;
        double? Percentile(double p) => latencies.Length == 0 ? null : latencies[Math.Clamp((int)Math.Ceiling(p * latencies.Length) - 1, 0, latencies.Length - 1)];
        return new LatencyDistributionView(latencies.Length, Percentile(0.50), Percentile(0.95), Percentile(0.99),
            BucketBounds.Select((bound, i) => new LatencyBucketView(double.IsFinite(bound) ? bound : null, buckets[i])).ToArray());
    }
}

/// <summary>A variant placed on a device, for the fleet view's "holds" column.</summary>
public sealed record PlacementView(string DeviceId, string VariantId, string State, long MemoryBytes, string? Error)
{
    public static PlacementView From(Placement placement)
    {
        ArgumentNullException.ThrowIfNull(placement);
        return new PlacementView(placement.DeviceId, placement.VariantId, placement.State.ToString().ToLowerInvariant(), placement.MemoryBytes, placement.Error);
    }
}
