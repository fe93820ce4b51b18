namespace EdgeLam.Gateway.Inference.Scheduling;

/// <summary>Weights of the performance cost (the penalty of drift-plus-penalty).</summary>
/// <param name="LatencyPerMillisecond">Cost of one millisecond of compute; scaled by (1 + priority).</param>
/// <param name="EnergyPerMillijoule">Cost of one modelled millijoule.</param>
public sealed record PerformanceWeights(double LatencyPerMillisecond = 1, double EnergyPerMillijoule = 0.1);

/// <summary>
/// Algorithm 2's choice rule, Lyapunov drift-plus-penalty (Neely 2010, ch. 3): per stage task minimize
/// V·penalty + Q_d·(work added to d) + Z_latency·(expected latency) + Z_accuracy·(accuracy drop), where the
/// penalty is the pair's weighted latency and energy. Small V favours short queues, large V cheap pairs.
/// </summary>
public sealed class DriftPlusPenaltyPolicy(double tradeoff, PerformanceWeights? weights = null) : ISchedulingPolicy
{
    private readonly PerformanceWeights _weights = weights ?? new PerformanceWeights();

    public string Name => "dpp";

    /// <summary>V, the penalty weight.</summary>
    public double Tradeoff { get; set; } = tradeoff >= 0 ? tradeoff : throw new ArgumentOutOfRangeException(nameof(tradeoff), tradeoff, "V must be non-negative.");

    public SchedulingCandidate? Choose(StageDecision decision, IReadOnlyList<SchedulingCandidate> feasible)
    {
        ArgumentNullException.ThrowIfNull(decision);
        ArgumentNullException.ThrowIfNull(feasible);
        return feasible.MinBy(candidate => Cost(decision, candidate));
    }

    /// <summary>The performance cost (penalty) of a pair.</summary>
    public double Penalty(StageDecision decision, SchedulingCandidate candidate)
    {
        ArgumentNullException.ThrowIfNull(decision);
        ArgumentNullException.ThrowIfNull(candidate);
        return (_weights.LatencyPerMillisecond * (1 + decision.Qos.Priority) * candidate.ServiceMilliseconds)
            + (_weights.EnergyPerMillijoule * candidate.EnergyMillijoules);
    }

    /// <summary>The drift-plus-penalty bound the policy minimizes.</summary>
    public double Cost(StageDecision decision, SchedulingCandidate candidate)
    {
        ArgumentNullException.ThrowIfNull(decision);
        ArgumentNullException.ThrowIfNull(candidate);
        var accuracyDropPoints = 100 * Math.Max(0, decision.Portfolio.ReferenceAccuracy - candidate.Variant.SwappedAccuracy);
        return (Tradeoff * Penalty(decision, candidate))
            + (candidate.Device.BacklogMilliseconds * candidate.ServiceMilliseconds)
            + (decision.Queues.Latency * candidate.ExpectedLatencyMilliseconds)
            + (decision.Queues.Accuracy * accuracyDropPoints);
    }
}
