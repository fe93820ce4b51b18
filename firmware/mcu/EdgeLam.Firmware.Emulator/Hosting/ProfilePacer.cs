using EdgeLam.Firmware.Application;

namespace EdgeLam.Firmware.Emulator.Hosting;

/// <summary>
/// Paces the emulated device to its board profile: work of N multiply-accumulates takes N / (MAC/s) seconds
/// ("modelled" time), so the host sleeps for what its faster CPU saved. TimeScale shrinks the sleep (e.g. 0.01 in
/// tests) without changing the modelled time that is reported.
/// </summary>
public sealed class ProfilePacer(double multiplyAccumulatesPerSecond, double timeScale = 1.0) : IComputePacer
{
    public double MultiplyAccumulatesPerSecond { get; } = multiplyAccumulatesPerSecond > 0 ? multiplyAccumulatesPerSecond : throw new ArgumentOutOfRangeException(nameof(multiplyAccumulatesPerSecond));
    public double TimeScale { get; } = timeScale >= 0 ? timeScale : throw new ArgumentOutOfRangeException(nameof(timeScale));

    /// <summary>Modelled milliseconds of the work (what the board would take); sleeps the scaled difference to what the host took.</summary>
    public long Pace(long multiplyAccumulates, long elapsedMilliseconds)
    {
        var modelled = (long)Math.Ceiling(multiplyAccumulates / MultiplyAccumulatesPerSecond * 1000.0);
        var sleep = (long)((modelled - elapsedMilliseconds) * TimeScale);
        if (sleep > 0) Thread.Sleep(TimeSpan.FromMilliseconds(sleep));
        return modelled;
    }
}
