using System.Collections.Concurrent;

namespace EdgeLam.Gateway.Inference;

/// <summary>Where a latency figure came from.</summary>
public enum LatencySource
{
    /// <summary>MACs over the throughput the device announced in its hello (before any measurement).</summary>
    ProfileThroughput,
    /// <summary>Measured by the device when it loaded the variant (deployment ack).</summary>
    Calibration,
    /// <summary>Running average of served stage tasks: the device's reported compute, or the time the task occupied it as the gateway measured it.</summary>
    Observed,
}

/// <summary>Latency of a (variant, device) pair and where it came from.</summary>
/// <param name="Milliseconds">Expected compute time of one image.</param>
/// <param name="Source">Origin of the figure.</param>
/// <param name="Samples">Observations folded in so far.</param>
public readonly record struct ServiceLatency(double Milliseconds, LatencySource Source, int Samples);

/// <summary>
/// Per (variant, device) service times as devices measured and reported them: the calibration of the deployment
/// ack, then an exponential running average of the compute times in stage results. Energy is modelled as the
/// measured busy time times the board's busy power from its hello.
/// </summary>
public sealed class ServicePerformance
{
    private readonly ConcurrentDictionary<(string VariantId, string DeviceId), ServiceLatency> _latency = new();

    /// <param name="smoothing">Weight of a new observation in the running average, 0..1.</param>
    public ServicePerformance(double smoothing = 0.3)
    {
        if (!(smoothing > 0 && smoothing <= 1)) throw new ArgumentOutOfRangeException(nameof(smoothing), smoothing, "Smoothing is in (0, 1].");
        Smoothing = smoothing;
    }

    public double Smoothing { get; }

    /// <summary>The latency a device measured when it loaded a variant; replaces a profile estimate, not observations.</summary>
    public void RecordCalibration(string variantId, string deviceId, double milliseconds)
    {
        RequireDuration(milliseconds);
        _latency.AddOrUpdate((variantId, deviceId), new ServiceLatency(milliseconds, LatencySource.Calibration, 0),
            (_, known) => known.Source == LatencySource.Observed ? known : new ServiceLatency(milliseconds, LatencySource.Calibration, 0));
    }

    /// <summary>Folds a reported compute time of one image into the running average.</summary>
    public void RecordObservation(string variantId, string deviceId, double milliseconds)
    {
        RequireDuration(milliseconds);
        _latency.AddOrUpdate((variantId, deviceId), new ServiceLatency(milliseconds, LatencySource.Observed, 1),
            (_, known) => known.Source == LatencySource.Observed || known.Source == LatencySource.Calibration
                ? new ServiceLatency(((1 - Smoothing) * known.Milliseconds) + (Smoothing * milliseconds), LatencySource.Observed, known.Samples + 1)
                : new ServiceLatency(milliseconds, LatencySource.Observed, 1));
    }

    /// <summary>Forgets every figure of a device (it left, or rejoined with new hardware).</summary>
    public void Forget(string deviceId)
    {
        foreach (var key in _latency.Keys.Where(k => k.DeviceId == deviceId)) _latency.TryRemove(key, out _);
    }

    /// <summary>The measured latency, or the profile estimate MACs / announced MAC/s when nothing was measured yet.</summary>
    public ServiceLatency Latency(StageVariant variant, string deviceId, double announcedMacsPerSecond)
    {
        ArgumentNullException.ThrowIfNull(variant);
        if (_latency.TryGetValue((variant.VariantId, deviceId), out var known)) return known;
        return new ServiceLatency(1000.0 * variant.MacsPerImage / announcedMacsPerSecond, LatencySource.ProfileThroughput, 0);
    }

    /// <summary>Modelled energy of one run, millijoules: busy milliseconds × busy watts; zero when the board states no power.</summary>
    public static double ModelledEnergyMillijoules(double busyMilliseconds, double? busyWatts) => busyMilliseconds * (busyWatts ?? 0);

    private static void RequireDuration(double milliseconds)
    {
        if (!(milliseconds >= 0 && milliseconds < 86_400_000)) throw new ArgumentOutOfRangeException(nameof(milliseconds), milliseconds, "A service time is 0..86 400 000 ms.");
    }
}
