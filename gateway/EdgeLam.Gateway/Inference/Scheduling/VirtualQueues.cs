namespace EdgeLam.Gateway.Inference.Scheduling;

/// <summary>Values of the virtual queues at one decision.</summary>
/// <param name="Latency">Z_latency, milliseconds of accumulated budget overrun.</param>
/// <param name="Accuracy">Z_accuracy, accumulated shortfall below the accuracy floor, percentage points.</param>
public readonly record struct VirtualQueueState(double Latency, double Accuracy);

/// <summary>
/// Virtual queues that turn time-average QoS constraints into queue stability (Neely, "Stochastic Network
/// Optimization with Application to Communication and Queueing Systems", 2010, ch. 4):
/// Z(t+1) = max(0, Z(t) + y(t)), with y the constraint's excess of the finished request.
/// </summary>
public sealed class VirtualQueues
{
    private readonly Lock _gate = new();
    private VirtualQueueState _state;

    public VirtualQueueState State
    {
        get { lock (_gate) return _state; }
    }

    /// <summary>Updates both queues with a finished request's latency and accuracy estimate against its QoS.</summary>
    public VirtualQueueState Update(double latencyMilliseconds, double budgetMilliseconds, double accuracyEstimate, double minimumAccuracy)
    {
        lock (_gate)
        {
            _state = Next(_state, latencyMilliseconds, budgetMilliseconds, accuracyEstimate, minimumAccuracy);
            return _state;
        }
    }

    /// <summary>The pure update rule.</summary>
    public static VirtualQueueState Next(VirtualQueueState state, double latencyMilliseconds, double budgetMilliseconds, double accuracyEstimate, double minimumAccuracy) =>
        new(Math.Max(0, state.Latency + latencyMilliseconds - budgetMilliseconds),
            Math.Max(0, state.Accuracy + (100 * (minimumAccuracy - accuracyEstimate))));

    public void Reset()
    {
        lock (_gate) _state = default;
    }
}
