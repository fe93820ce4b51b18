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
        long weights;
        long activations;
        long scratch;
        switch (shape.Kind)
        {
            case StageKind.Embedding:
                weights = LinearBytes(shape.PatchDim, d) + (t * d * 4);
                activations = (t * shape.PatchDim) + (2 * t * d);
                scratch = d * 4;
                break;
            case StageKind.Block:
                weights = (4 * LinearBytes(d, d)) + LinearBytes(d, m) + LinearBytes(m, d) + (4 * d * 4);

                // input, ln1, q, k, v, context, o, residual, ln2, fc2, output (tokens × d); fc1 and gelu (tokens × m); one head's scores and probabilities.
                activations = (11 * t * d) + (2 * t * m) + (2 * t * t);
                scratch = (m > d ? m : d) * 4 + (d * 4);
                break;
            default:
                weights = LinearBytes(d, shape.Classes) + (2 * d * 4);
                activations = (2 * t * d) + d + shape.Classes;
                scratch = (d * 4) + (shape.Classes * 4);
                break;
        }

        return new StageMemoryPlan(shape, weights, activations, scratch, blobBytes);
    }

    /// <summary>"stage block2 int8: weights 41 KiB, activations 3 KiB, scratch 1 KiB, peak 45 KiB".</summary>
    public override string ToString()
    {
        return "stage " + Shape.StageId + " int8: weights " + MemoryBudget.Kibibytes(WeightBytes) + ", activations " + MemoryBudget.Kibibytes(ActivationBytes) + ", scratch " + MemoryBudget.Kibibytes(ScratchBytes) + ", peak " + MemoryBudget.Kibibytes(PeakBytes);
    }

    private static long LinearBytes(long inFeatures, long outFeatures)
    {
        // int8 weights, int32 bias and one float scale per output channel.
        return (inFeatures * outFeatures) + (outFeatures * 8);
    }
}
