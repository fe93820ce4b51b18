namespace EdgeLam.Gateway.Inference;

/// <summary>What a caller asks of one inference: a floor on the chain's accuracy, a latency ceiling and a priority.</summary>
/// <param name="MinimumAccuracy">Lowest acceptable test-set accuracy of the chosen variant chain, 0..1.</param>
/// <param name="MaximumLatency">End-to-end latency budget of the request.</param>
/// <param name="Priority">Larger is more urgent; weighs the latency term of the scheduling cost (0..10).</param>
public sealed record QosRequirement(double MinimumAccuracy, TimeSpan MaximumLatency, int Priority = 0)
{
    /// <summary>Most priority a request can carry.</summary>
    public const int MaxPriority = 10;

    /// <summary>No accuracy floor and a generous latency budget.</summary>
    public static QosRequirement BestEffort { get; } = new(0, TimeSpan.FromSeconds(30));

    /// <summary>The latency budget in milliseconds.</summary>
    public double MaximumLatencyMilliseconds => MaximumLatency.TotalMilliseconds;

    /// <summary>Throws an <see cref="ArgumentOutOfRangeException"/> naming the field that is out of range.</summary>
    public void Validate()
    {
        if (!(MinimumAccuracy >= 0 && MinimumAccuracy <= 1))
            throw new ArgumentOutOfRangeException(nameof(MinimumAccuracy), MinimumAccuracy, "Minimum accuracy is a fraction in 0..1.");
        if (MaximumLatency <= TimeSpan.Zero || MaximumLatency > TimeSpan.FromHours(1))
            throw new ArgumentOutOfRangeException(nameof(MaximumLatency), MaximumLatency, "Maximum latency must be positive and at most one hour.");
        if (Priority is < 0 or > MaxPriority)
            throw new ArgumentOutOfRangeException(nameof(Priority), Priority, $"Priority is 0..{MaxPriority}.");
    }
}
