namespace EdgeLam.Gateway.Training;

public enum AggregationOutcome
{
    /// <summary>At least one reply was used; the global state advanced.</summary>
    Aggregated,

    /// <summary>No reply could be used; the global state is the previous one, unchanged.</summary>
    KeptPreviousState,
}

/// <summary>A reply that arrived but was not aggregated, with the reason.</summary>
public sealed record RejectedReply(string DeviceId, string Reason);

/// <summary>Parameters sent to one device after aggregation, at that device's rank and layers.</summary>
public sealed record DeviceDownlink(string DeviceId, int Rank, ModelParameters Parameters);

/// <summary>Per adapted projection (or full-weight tensor): who contributed and what came out.</summary>
/// <param name="GlobalRank">Rank of the stored global factors (0 for full-weight tensors).</param>
/// <param name="DeltaFrobeniusNorm">‖ΔW‖_F of the aggregate (of the weights themselves for full FedAvg).</param>
/// <param name="RelativeTruncationErrorByRank">For rank-aligned downlinks: ‖ΔW − ΔW_r‖_F / ‖ΔW‖_F per downlink rank r.</param>
public sealed record ProjectionMetric(
    string Projection,
    int Contributors,
    int GlobalRank,
    double DeltaFrobeniusNorm,
    IReadOnlyDictionary<int, double> RelativeTruncationErrorByRank);

public sealed record AggregationMetrics(
    int Accepted,
    int Failed,
    int Rejected,
    long TotalExamples,
    long UplinkBytes,
    IReadOnlyList<ProjectionMetric> Projections);

/// <summary>Outcome of one round's aggregation.</summary>
/// <param name="Summary">One sentence for logs, e.g. why the previous state was kept.</param>
public sealed record AggregationResult(
    AggregationOutcome Outcome,
    GlobalModelState Global,
    IReadOnlyList<DeviceDownlink> Downlinks,
    IReadOnlyList<RejectedReply> Rejected,
    AggregationMetrics Metrics,
    string Summary);
