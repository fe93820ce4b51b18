namespace EdgeLam.Firmware.Kernels;

/// <summary>
/// Structured sparsity of a linear layer: each output channel's input axis is cut into blocks of BlockSize
/// consecutive inputs (the last may be shorter); a block is kept or pruned as a whole. A fully pruned row is a
/// removed output channel (its output is the requantized bias alone). Blocks of 4 suit 4-way unrolled kernels.
/// </summary>
public sealed class StructuredSparsityMask
{
    private readonly bool[] kept;

    /// <summary>A mask with every block kept.</summary>
    public StructuredSparsityMask(int inFeatures, int outFeatures, int blockSize)
    {
        if (inFeatures <= 0 || outFeatures <= 0)
        {
            throw new System.ArgumentOutOfRangeException(nameof(inFeatures), "A block mask needs positive In and Out, got In=" + inFeatures.ToString() + " Out=" + outFeatures.ToString() + ".");
        }

        if (blockSize <= 0 || blockSize > inFeatures)
        {
            throw new System.ArgumentOutOfRangeException(nameof(blockSize), "Block size must be in [1, In=" + inFeatures.ToString() + "], got " + blockSize.ToString() + ".");
        }

        In = inFeatures;
        Out = outFeatures;
        BlockSize = blockSize;
        BlocksPerRow = (inFeatures + blockSize - 1) / blockSize;
        kept = new bool[outFeatures * BlocksPerRow];
        for (int i = 0; i < kept.Length; i++)
        {
            kept[i] = true;
        }
    }

    /// <summary>Input features.</summary>
    public int In { get; }

    /// <summary>Output channels.</summary>
    public int Out { get; }

    /// <summary>Inputs per block.</summary>
    public int BlockSize { get; }

    /// <summary>Blocks per output channel.</summary>
    public int BlocksPerRow { get; }

    /// <summary>Number of kept blocks over the whole layer.</summary>
    public int KeptBlockCount
    {
        get
        {
            int count = 0;
            for (int i = 0; i < kept.Length; i++)
            {
                count += kept[i] ? 1 : 0;
            }

            return count;
        }
    }

    /// <summary>The mask that prunes exactly the all-zero blocks of int8 weights [Out, In].</summary>
    public static StructuredSparsityMask FromZeroBlocks(QuantizedLinearWeights weights, int blockSize)
    {
        if (weights == null)
        {
            throw new System.ArgumentNullException(nameof(weights));
        }

        var mask = new StructuredSparsityMask(weights.In, weights.Out, blockSize);
        for (int c = 0; c < weights.Out; c++)
        {
            for (int block = 0; block < mask.BlocksPerRow; block++)
            {
                bool allZero = true;
                for (int k = mask.BlockStart(block); k < mask.BlockEnd(block); k++)
                {
                    allZero &= weights.WeightAt(c, k) == 0;
                }

                mask.SetKept(c, block, !allZero);
            }
        }

        return mask;
    }

    /// <summary>Whether a block of a channel is kept.</summary>
    public bool IsKept(int channel, int block)
    {
        CheckIndex(channel, block);
        return kept[(channel * BlocksPerRow) + block];
    }

    /// <summary>Keeps or prunes a block of a channel.</summary>
    public void SetKept(int channel, int block, bool isKept)
    {
        CheckIndex(channel, block);
        kept[(channel * BlocksPerRow) + block] = isKept;
    }

    /// <summary>Prunes every block of a channel (removes the output channel).</summary>
    public void PruneChannel(int channel)
    {
        for (int block = 0; block < BlocksPerRow; block++)
        {
            SetKept(channel, block, false);
        }
    }

    /// <summary>First input index of a block.</summary>
    public int BlockStart(int block)
    {
        return block * BlockSize;
    }

    /// <summary>One past the last input index of a block.</summary>
    public int BlockEnd(int block)
    {
        int end = (block + 1) * BlockSize;
        return end < In ? end : In;
    }

    private void CheckIndex(int channel, int block)
    {
        if (channel < 0 || channel >= Out || block < 0 || block >= BlocksPerRow)
        {
            throw new System.ArgumentOutOfRangeException(nameof(channel), "Block (" + channel.ToString() + ", " + block.ToString() + ") is outside the [" + Out.ToString() + ", " + BlocksPerRow.ToString() + "] block grid.");
        }
    }
}
