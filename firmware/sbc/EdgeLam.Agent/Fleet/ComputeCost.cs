using EdgeLam.Model.Architecture;
using EdgeLam.Model.Onnx;

namespace EdgeLam.Agent.Fleet;

/// <summary>Multiply-accumulates of the tiny ViT's stages, the work unit the board profiles' throughput is given in.</summary>
public static class ComputeCost
{
    /// <summary>Forward MACs of one image through <paramref name="stage"/>.</summary>
    public static long StageMacsPerImage(TinyVitConfig config, ModelStage stage)
    {
        ArgumentNullException.ThrowIfNull(config);
        long tokens = config.Tokens;
        long dim = config.ModelDim;
        long embed = tokens * config.PatchDim * dim;
        // q, k, v, o projections; scores and weighted sum (tokens x tokens x dim each); two MLP layers.
        long block = (4 * tokens * dim * dim) + (2 * tokens * tokens * dim) + (2 * tokens * dim * config.MlpDim);
        long head = dim * config.Classes;
        return stage.Kind switch
        {
            ModelStageKind.Embedding => embed,
            ModelStageKind.Block => block,
            ModelStageKind.Head => head,
            _ => embed + (config.Layers * block) + head,
        };
    }

    /// <summary>
    /// MACs of one LoRA training example: a forward pass and a backward pass that costs about twice the forward
    /// (gradients with respect to activations and to the adapter factors; Kaplan et al. 2020, "6N" rule).
    /// </summary>
    public static long TrainingMacsPerImage(TinyVitConfig config) => 3 * StageMacsPerImage(config, ModelStage.Whole);
}

/// <summary>
/// Paces emulated compute to a board: when this machine finished sooner than MACs / (board MAC/s), sleeps the
/// difference, so the wall time is the modelled time of the board (never shorter than the real time here).
/// </summary>
public static class ThroughputPacer
{
    /// <summary>The modelled duration of <paramref name="macs"/> at <paramref name="macsPerSecond"/>.</summary>
    public static TimeSpan ModelledTime(long macs, double macsPerSecond)
    {
        if (!(macsPerSecond > 0)) throw new ArgumentOutOfRangeException(nameof(macsPerSecond), macsPerSecond, "Throughput must be positive.");
        return TimeSpan.FromSeconds(macs / macsPerSecond);
    }

    /// <summary>Waits until <paramref name="elapsed"/> plus the wait reaches the modelled time; returns the time waited.</summary>
    public static async Task<TimeSpan> PaceAsync(long macs, double macsPerSecond, TimeSpan elapsed, CancellationToken cancellationToken)
    {
        TimeSpan remaining = ModelledTime(macs, macsPerSecond) - elapsed;
        if (remaining <= TimeSpan.Zero) return TimeSpan.Zero;
        await Task.Delay(remaining, cancellationToken).ConfigureAwait(false);
        return remaining;
    }
}
