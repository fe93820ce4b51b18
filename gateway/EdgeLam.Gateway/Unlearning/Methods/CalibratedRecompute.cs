using EdgeLam.Gateway.Training;

namespace EdgeLam.Gateway.Unlearning.Methods;

/// <summary>
/// calibrated: starts from the exact recompute of the stored history without the device, then runs
/// calibration rounds with the remaining devices, so the others' updates are re-fitted to a history the
/// forgotten device never touched (in the spirit of FedEraser, Liu et al. 2021, IWQoS).
/// </summary>
public static class CalibratedRecompute
{
    /// <param name="runRound">Runs one training round with the remaining devices from the given global state; returns the new one.</param>
    public static async Task<GlobalModelState> RunAsync(
        GlobalModelState replayed, int calibrationRounds,
        Func<GlobalModelState, int, CancellationToken, Task<GlobalModelState>> runRound, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(replayed);
        ArgumentNullException.ThrowIfNull(runRound);
        ArgumentOutOfRangeException.ThrowIfNegative(calibrationRounds);
        var global = replayed;
        for (var round = 0; round < calibrationRounds; round++)
            global = await runRound(global, round, cancellationToken).ConfigureAwait(false);
        return global;
    }
}
