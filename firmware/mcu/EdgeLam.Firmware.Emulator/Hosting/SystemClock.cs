using System.Diagnostics;
using EdgeLam.Firmware.Application;

namespace EdgeLam.Firmware.Emulator.Hosting;

/// <summary>The host's clocks behind the firmware's <see cref="IClock"/>.</summary>
public sealed class SystemClock : IClock
{
    private readonly Stopwatch _stopwatch = Stopwatch.StartNew();

    public long MonotonicMilliseconds => _stopwatch.ElapsedMilliseconds;

    public long UnixMilliseconds => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

    public void Sleep(int milliseconds) => Thread.Sleep(Math.Max(0, milliseconds));
}
