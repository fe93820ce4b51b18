using System.Diagnostics;

namespace EdgeLam.Agent;

/// <summary>Busy time of the device's compute, read and reset once per heartbeat.</summary>
public sealed class LoadMeter
{
    private long _busyTicks;
    private long _lastRead = Stopwatch.GetTimestamp();

    /// <summary>Adds the time from now until the returned scope is disposed.</summary>
    public BusyScope Busy() => new(this, Stopwatch.GetTimestamp());

    /// <summary>Busy milliseconds and the interval length since the last call, busy clamped to the interval.</summary>
    public (int BusyMilliseconds, int IntervalMilliseconds) TakeInterval()
    {
        long now = Stopwatch.GetTimestamp();
        long previous = Interlocked.Exchange(ref _lastRead, now);
        int interval = (int)Math.Clamp(Stopwatch.GetElapsedTime(previous, now).TotalMilliseconds, 1, 3_600_000);
        long busyTicks = Interlocked.Exchange(ref _busyTicks, 0);
        int busy = (int)Math.Clamp(busyTicks * 1000 / Stopwatch.Frequency, 0, interval);
        return (busy, interval);
    }

    /// <summary>A span of compute.</summary>
    public readonly struct BusyScope : IDisposable
    {
        private readonly LoadMeter _meter;
        private readonly long _start;

        internal BusyScope(LoadMeter meter, long start)
        {
            _meter = meter;
            _start = start;
        }

        /// <inheritdoc/>
        public void Dispose() => Interlocked.Add(ref _meter._busyTicks, Stopwatch.GetTimestamp() - _start);
    }
}
