namespace EdgeLam.Gateway.Inference;

/// <summary>How requests are scheduled.</summary>
public enum InferenceStrategy
{
    /// <summary>Algorithm 2: QoS filter and Lyapunov drift-plus-penalty per stage.</summary>
    DriftPlusPenalty,
    /// <summary>Fastest feasible pair per stage.</summary>
    Greedy,
    /// <summary>Feasible devices in turn.</summary>
    RoundRobin,
    /// <summary>Whole model on one device.</summary>
    Monolithic,
    /// <summary>Whole FP32 model at the gateway (ONNX Runtime) plus a modelled WAN round trip.</summary>
    Cloud,
}

/// <summary>Where one stage ran.</summary>
/// <param name="StageId">Stage.</param>
/// <param name="VariantId">Variant that ran.</param>
/// <param name="DeviceId">Device that ran it ("gateway" for the cloud baseline).</param>
/// <param name="ComputeMilliseconds">Compute time the device reported.</param>
/// <param name="QueueWaitMilliseconds">Queue wait the device reported.</param>
/// <param name="RoundTripMilliseconds">Publish to result arrival at the gateway.</param>
/// <param name="Attempts">Dispatches it took (more than one after a timeout, failure or vanished device).</param>
/// <param name="ModelledEnergyMillijoules">Compute time × board busy power (modelled).</param>
public sealed record StagePlacement(string StageId, string VariantId, string DeviceId, double ComputeMilliseconds, double QueueWaitMilliseconds, double RoundTripMilliseconds, int Attempts, double ModelledEnergyMillijoules);

/// <summary>The outcome of one inference request.</summary>
/// <param name="Succeeded">True when every stage ran and a prediction exists.</param>
/// <param name="Prediction">Predicted class, or -1 on failure.</param>
/// <param name="Logits">Output of the head (dequantized).</param>
/// <param name="LatencyMilliseconds">End-to-end latency at the gateway (cloud: includes the modelled WAN round trip).</param>
/// <param name="Stages">Per-stage placements, in pipeline order.</param>
/// <param name="AccuracyEstimate">Test-set accuracy estimate of the variant chain that ran.</param>
/// <param name="QosMet">Latency within budget and accuracy estimate at or above the floor.</param>
/// <param name="Strategy">Scheduling strategy used.</param>
/// <param name="Failure">Why it failed, when it did.</param>
/// <param name="ModelledWanMilliseconds">Modelled WAN round trip included in the latency (cloud baseline only).</param>
public sealed record InferenceResult(
    bool Succeeded,
    int Prediction,
    IReadOnlyList<float> Logits,
    double LatencyMilliseconds,
    IReadOnlyList<StagePlacement> Stages,
    double AccuracyEstimate,
    bool QosMet,
    InferenceStrategy Strategy,
    string? Failure,
    double ModelledWanMilliseconds = 0)
{
    /// <summary>Distinct devices that served the request.</summary>
    public IReadOnlyList<string> Devices => Stages.Select(s => s.DeviceId).Distinct().ToArray();
}

/// <summary>One served request, as kept for reports and the HTTP API.</summary>
/// <param name="RequestId">Sequence number at the gateway.</param>
/// <param name="ReceivedAt">When the request arrived.</param>
/// <param name="Qos">What it asked for.</param>
/// <param name="Result">What it got.</param>
public sealed record InferenceRecord(long RequestId, DateTimeOffset ReceivedAt, QosRequirement Qos, InferenceResult Result);
