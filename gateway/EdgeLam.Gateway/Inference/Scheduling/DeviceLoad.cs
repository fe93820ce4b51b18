namespace EdgeLam.Gateway.Inference.Scheduling;

/// <summary>
/// Q_d of one device, kept current as tasks are dispatched and answered: the expected work of its tasks in flight,
/// plus the queue it reported beyond them (heartbeat or stage result) at its mean service time.
/// </summary>
public sealed class DeviceLoad
{
    private readonly Lock _gate = new();
    private double _inFlightMilliseconds;
    private int _inFlightTasks;
    private int _reportedQueue;
    private double _meanServiceMilliseconds;

    /// <summary>The backlog the scheduler weighs, milliseconds of queued work.</summary>
    public double BacklogMilliseconds { get; private set; }

    /// <summary>Tasks dispatched to the device and not answered yet.</summary>
    public int InFlightTasks => Volatile.Read(ref _inFlightTasks);

    /// <summary>Adds (or, negative, removes) one task's expected work.</summary>
    public void AddInFlight(double milliseconds, int tasks)
    {
        lock (_gate)
        {
            _inFlightMilliseconds = Math.Max(0, _inFlightMilliseconds + milliseconds);
            _inFlightTasks = Math.Max(0, _inFlightTasks + tasks);
            if (_inFlightTasks == 0) _inFlightMilliseconds = 0;
            Refresh();
        }
    }

    /// <summary>The queue length the device reported and the mean service time of what it holds.</summary>
    public void Report(int queueLength, double meanServiceMilliseconds)
    {
        lock (_gate)
        {
            _reportedQueue = Math.Max(0, queueLength);
            if (meanServiceMilliseconds >= 0) _meanServiceMilliseconds = meanServiceMilliseconds;
            Refresh();
        }
    }

    private void Refresh() =>
        BacklogMilliseconds = _inFlightMilliseconds + (Math.Max(0, _reportedQueue - _inFlightTasks) * _meanServiceMilliseconds);
}
