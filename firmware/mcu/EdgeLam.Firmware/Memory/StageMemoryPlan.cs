namespace EdgeLam.Firmware.Memory;

/// <summary>
/// The static buffer plan of one INT8 stage (TensorFlow Lite Micro style: every buffer known before the first
/// inference): resident weights, the activation arena of one image, and kernel scratch.
/// </summary>
public sealed class StageMemoryPlan
{
    private StageMemoryPlan(StageShape shape, long weightBytes, long activationBytes, long scratchBytes, long blobBytes)
    {
        Shape = shape;
        WeightBytes = weightBytes;
        ActivationBytes = activationBytes;
        ScratchBytes = scratchBytes;
        BlobBytes = blobBytes;
    }

    /// <summary>The stage planned.</summary>
    public StageShape Shape { get; }

    /// <summary>int8 weights, int32 biases, per-channel scales and LayerNorm parameters, resident while deployed.</summary>
    public long WeightBytes { get; }

    /// <summary>int8 activation buffers of one image through the stage.</summary>
    public long ActivationBytes { get; }

    /// <summary>int32 accumulators and float LayerNorm rows of the kernels.</summary>
    public long ScratchBytes { get; }

    /// <summary>Size of the stored stage blob (flash or PSRAM), when known; else 0.</summary>
    public long BlobBytes { get; }

    /// <summary>RAM the stage needs while it runs.</summary>
    public long PeakBytes => WeightBytes + ActivationBytes + ScratchBytes;

    /// <summary>Plans an INT8 stage from its shape; blobBytes is the stored blob size (0 when not yet built).</summary>
    public static StageMemoryPlan ForInt8(StageShape shape, long blobBytes)
    {
        if (shape == null)
        {
            throw new System.ArgumentNullException(nameof(shape));
        }

        long t = shape.Tokens;
        long d = shape.ModelDim;
        long m = shape.MlpDim;
        long p = shape.PatchDim;
        long weights;
        long activations;
        long scratch;
        switch (shape.Kind)
        {
            case StageKind.Embedding:
                // Projection, int8 position embedding, int32 pixel index of every patch element.
                weights = LinearBytes(p, d) + (t * d) + (t * p * 4);

                // Pixels, patches, tokens (the position add runs in place).
                activations = (2 * t * p) + (t * d);
                scratch = d * 4;
                break;
            case StageKind.Block:
                weights = (4 * LinearBytes(d, d)) + LinearBytes(d, m) + LinearBytes(m, d) + (2 * LayerNormBytes(d)) + GeluTableBytes + SoftmaxTableBytes;

                // Residual stream, normalized, Q, K, V, context, branch output (tokens × d); hidden (tokens × m, GELU in place); one head's scores and probabilities.
                activations = (7 * t * d) + (t * m) + (2 * t * t);
                scratch = ((4 * d) + m + d) * 4;
                break;
            default:
                weights = LinearBytes(d, shape.Classes) + LayerNormBytes(d);

                // Tokens, normalized tokens, pooled vector, logits.
                activations = (2 * t * d) + d + shape.Classes;
                scratch = shape.Classes * 4;
                break;
        }

        return new StageMemoryPlan(shape, weights, activations, scratch, blobBytes);
    }

    /// <summary>"stage block2 int8: weights 41 KiB, activations 3 KiB, scratch 1 KiB, peak 45 KiB".</summary>
    public override string ToString()
    {
        return "stage " + Shape.StageId + " int8: weights " + MemoryBudget.Kibibytes(WeightBytes) + ", activations " + MemoryBudget.Kibibytes(ActivationBytes) + ", scratch " + MemoryBudget.Kibibytes(ScratchBytes) + ", peak " + MemoryBudget.Kibibytes(PeakBytes);
    }

    private const long GeluTableBytes = 256;
    private const long SoftmaxTableBytes = 256 * 4;

    private static long LinearBytes(long inFeatures, long outFeatures)
    {
        // int8 weights; per output channel an int32 bias, a float scale, the folded int32 bias and the fixed-point multiplier and shift.
        return (inFeatures * outFeatures) + (outFeatures * 20);
    }

    private static long LayerNormBytes(long width)
    {
        // Fixed-point γ and β as int64 per feature.
        return width * 16;
    }
}
