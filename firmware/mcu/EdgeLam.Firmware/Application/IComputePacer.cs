namespace EdgeLam.Firmware.Application;

/// <summary>
/// Accounts for compute. On the ESP32 the work takes the time it takes (nothing to do); the emulator sleeps so that
/// the time of a piece of work equals its multiply-accumulates divided by the board profile's MAC/s ("modelled").
/// </summary>
public interface IComputePacer
{
    /// <summary>Called after work of that many MACs took elapsedMilliseconds; returns the milliseconds to report for it.</summary>
    long Pace(long multiplyAccumulates, long elapsedMilliseconds);
}
