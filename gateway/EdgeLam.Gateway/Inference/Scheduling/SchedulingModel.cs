using EdgeLam.Contracts.Messages;

namespace EdgeLam.Gateway.Inference.Scheduling;

/// <summary>A device as the scheduler sees it at one decision.</summary>
/// <param name="DeviceId">Device id.</param>
/// <param name="Online">Present in the registry.</param>
/// <param name="Precisions">Precisions from its hello.</param>
/// <param name="MemoryBytes">Model memory from its hello.</param>
/// <param name="BusyWatts">Board power under load from its hello, when stated.</param>
/// <param name="BacklogMilliseconds">Q_d: expected work queued on the device (in-flight tasks and heartbeat queue).</param>
public sealed record DeviceSnapshot(string DeviceId, bool Online, IReadOnlyCollection<Precision> Precisions, long MemoryBytes, double? BusyWatts, double BacklogMilliseconds);

/// <summary>A (variant, device) pair that could serve a stage task: the variant is loaded on the device.</summary>
/// <param name="Variant">Variant.</param>
/// <param name="Device">Device.</param>
/// <param name="ServiceMilliseconds">Expected compute time of the task on this device.</param>
/// <param name="EnergyMillijoules">Modelled energy of the task (busy time × busy power).</param>
public sealed record SchedulingCandidate(StageVariant Variant, DeviceSnapshot Device, double ServiceMilliseconds, double EnergyMillijoules)
{
    /// <summary>Expected latency of the task: wait behind the backlog, then compute.</summary>
    public double ExpectedLatencyMilliseconds => Device.BacklogMilliseconds + ServiceMilliseconds;
}

/// <summary>One stage decision: the request so far, its QoS, and every loaded pair of the fleet (all stages).</summary>
/// <param name="Portfolio">The microservice portfolio.</param>
/// <param name="StageIndex">Stage to place.</param>
/// <param name="Chosen">Variants already run for the earlier stages, with their devices.</param>
/// <param name="Qos">The request's QoS.</param>
/// <param name="ElapsedMilliseconds">Time the request has spent so far.</param>
/// <param name="Pairs">Every loaded (variant, device) pair of the fleet, for every stage.</param>
/// <param name="Queues">Virtual queues of the time-average QoS constraints.</param>
public sealed record StageDecision(
    ServicePortfolio Portfolio,
    int StageIndex,
    IReadOnlyList<SchedulingCandidate> Chosen,
    QosRequirement Qos,
    double ElapsedMilliseconds,
    IReadOnlyList<SchedulingCandidate> Pairs,
    VirtualQueueState Queues)
{
    /// <summary>Loaded pairs of the stage being placed.</summary>
    public IEnumerable<SchedulingCandidate> StagePairs => Pairs.Where(p => p.Variant.StageIndex == StageIndex);
}

/// <summary>A way of choosing a (variant, device) pair per stage task; the orchestrator knows no policy details.</summary>
public interface ISchedulingPolicy
{
    /// <summary>Name in reports ("dpp", "greedy", "round_robin", "monolithic").</summary>
    string Name { get; }

    /// <summary>Picks one of <paramref name="feasible"/> (never empty), or null to refuse them all.</summary>
    SchedulingCandidate? Choose(StageDecision decision, IReadOnlyList<SchedulingCandidate> feasible);
}
