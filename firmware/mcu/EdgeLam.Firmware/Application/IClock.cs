namespace EdgeLam.Firmware.Application;

/// <summary>Time on the device: a monotonic millisecond counter, wall-clock Unix time (SNTP on the ESP32), and sleep.</summary>
public interface IClock
{
    /// <summary>Milliseconds from an arbitrary start; never goes back.</summary>
    long MonotonicMilliseconds { get; }

    /// <summary>Wall-clock time, Unix milliseconds UTC (for deadlines of the wire contract).</summary>
    long UnixMilliseconds { get; }

    /// <summary>Blocks the calling thread.</summary>
    void Sleep(int milliseconds);
}
