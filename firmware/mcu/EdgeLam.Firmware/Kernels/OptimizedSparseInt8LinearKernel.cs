namespace EdgeLam.Firmware.Kernels;

/// <summary>
/// Optimized structured-sparse int8 fully connected kernel: at Prepare the kept blocks are packed contiguously per
/// output channel (a block-CSR layout: per channel a range of entries, each a run of adjacent kept blocks with its input start and length),
/// the input zero point is folded into the bias over the kept weights only, and fully pruned channels cost nothing
/// but their bias. Work and weight memory scale with the kept fraction; results equal the dense kernels' exactly.
/// </summary>
public sealed class OptimizedSparseInt8LinearKernel : Int8LinearKernelBase
{
    private int[] foldedBias = new int[0];
    private int[] channelFirstEntry = new int[0];
    private int[] entryInputStart = new int[0];
    private int[] entryLength = new int[0];
    private int[] entryWeightStart = new int[0];
    private sbyte[] packedWeights = new sbyte[0];
    private int[] accumulators = new int[0];

    /// <inheritdoc />
    public override string Name => "sparse-optimized";

    /// <inheritdoc />
    public override int ScratchInt32Count => accumulators.Length;

    /// <summary>Bytes of packed int8 weights kept after Prepare.</summary>
    public int PackedWeightCount => packedWeights.Length;

    /// <inheritdoc />
    protected override void PrepareVariant(QuantizedLinearWeights weights)
    {
        StructuredSparsityMask? mask = weights.Sparsity;
        if (mask == null)
        {
            throw new System.ArgumentException("A sparse kernel needs a layer with a block mask (QuantizedLinearWeights.ApplySparsity).", nameof(weights));
        }

        int entries = mask.KeptBlockCount;
        int packedCount = 0;
        for (int c = 0; c < weights.Out; c++)
        {
            for (int block = 0; block < mask.BlocksPerRow; block++)
            {
                packedCount += mask.IsKept(c, block) ? mask.BlockEnd(block) - mask.BlockStart(block) : 0;
            }
        }

        foldedBias = new int[weights.Out];
        channelFirstEntry = new int[weights.Out + 1];
        entryInputStart = new int[entries];
        entryLength = new int[entries];
        entryWeightStart = new int[entries];
        packedWeights = new sbyte[packedCount];
        accumulators = new int[weights.Out];

        int entry = 0;
        int packed = 0;
        for (int c = 0; c < weights.Out; c++)
        {
            channelFirstEntry[c] = entry;
            int keptSum = 0;
            for (int block = 0; block < mask.BlocksPerRow; block++)
            {
                if (!mask.IsKept(c, block))
                {
                    continue;
                }

                int start = mask.BlockStart(block);
                int end = mask.BlockEnd(block);
                if (block > 0 && mask.IsKept(c, block - 1))
                {
                    // Adjacent kept blocks form one run: fewer entries, longer unrolled loops.
                    entryLength[entry - 1] += end - start;
                }
                else
                {
                    entryInputStart[entry] = start;
                    entryLength[entry] = end - start;
                    entryWeightStart[entry] = packed;
                    entry++;
                }

                for (int k = start; k < end; k++)
                {
                    sbyte value = weights.Weights[(c * weights.In) + k];
                    packedWeights[packed++] = value;
                    keptSum += value;
                }
            }

            foldedBias[c] = weights.Bias[c] - (InputZeroPoint * keptSum);
        }

        channelFirstEntry[weights.Out] = entry;
    }

    /// <inheritdoc />
    protected override void EvalVariant(sbyte[] input, int inputOffset, int rows, sbyte[] output, int outputOffset)
    {
        QuantizedLinearWeights layer = Layer;
        int depth = layer.In;
        int channels = layer.Out;
        sbyte[] w = packedWeights;
        for (int r = 0; r < rows; r++)
        {
            int x = inputOffset + (r * depth);
            for (int c = 0; c < channels; c++)
            {
                int acc = foldedBias[c];
                int lastEntry = channelFirstEntry[c + 1];
                for (int e = channelFirstEntry[c]; e < lastEntry; e++)
                {
                    int xi = x + entryInputStart[e];
                    int wi = entryWeightStart[e];
                    int length = entryLength[e];
                    int k = 0;
                    for (; k + 4 <= length; k += 4)
                    {
                        acc += (input[xi + k] * w[wi + k]) + (input[xi + k + 1] * w[wi + k + 1]) + (input[xi + k + 2] * w[wi + k + 2]) + (input[xi + k + 3] * w[wi + k + 3]);
                    }

                    for (; k < length; k++)
                    {
                        acc += input[xi + k] * w[wi + k];
                    }
                }

                accumulators[c] = acc;
            }

            OutputRequantizer.RequantizeRow(accumulators, 0, output, outputOffset + (r * channels), 0, channels);
        }
    }
}
