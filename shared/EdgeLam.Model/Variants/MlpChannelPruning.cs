using EdgeLam.Model.Architecture;

namespace EdgeLam.Model.Variants;

/// <summary>
/// Structured pruning of the MLP: whole hidden units are removed from every encoder block, i.e. output channels
/// (rows) of fc1 together with the input columns of fc2 they feed, so the pruned model is physically smaller and
/// needs no sparse kernel. A unit's importance is ‖fc1 row‖₂ · ‖fc2 column‖₂, the L2 magnitude of the path through it
/// (magnitude-based channel pruning, Li et al. 2017, "Pruning Filters for Efficient ConvNets").
/// </summary>
public static class MlpChannelPruning
{
    /// <summary>
    /// A copy of <paramref name="weights"/> keeping round((1 − sparsity) · MlpDim) hidden units per block,
    /// the most important ones, in their original order.
    /// </summary>
    public static TinyVitWeights Prune(TinyVitWeights weights, double sparsity)
    {
        ArgumentNullException.ThrowIfNull(weights);
        if (!(sparsity >= 0 && sparsity < 1))
            throw new ArgumentOutOfRangeException(nameof(sparsity), sparsity, "MLP sparsity must be in [0, 1).");
        var config = weights.Config;
        var kept = Math.Max(1, (int)Math.Round((1 - sparsity) * config.MlpDim));
        var pruned = new TinyVitWeights(config with { MlpDim = kept });

        CopyLinear(weights.PatchEmbedding, pruned.PatchEmbedding);
        weights.Position.CopyTo(pruned.Position, 0);
        CopyNorm(weights.FinalNorm, pruned.FinalNorm);
        CopyLinear(weights.Head, pruned.Head);
        for (var b = 0; b < config.Layers; b++)
        {
            var source = weights.Blocks[b];
            var target = pruned.Blocks[b];
            CopyNorm(source.Ln1, target.Ln1);
            CopyNorm(source.Ln2, target.Ln2);
            CopyLinear(source.Query, target.Query);
            CopyLinear(source.Key, target.Key);
            CopyLinear(source.Value, target.Value);
            CopyLinear(source.Output, target.Output);

            var units = KeptUnits(source, kept);
            for (var j = 0; j < units.Length; j++)
            {
                var unit = units[j];
                source.Fc1.W.AsSpan(unit * source.Fc1.In, source.Fc1.In).CopyTo(target.Fc1.W.AsSpan(j * target.Fc1.In, target.Fc1.In));
                target.Fc1.B[j] = source.Fc1.B[unit];
                for (var o = 0; o < source.Fc2.Out; o++)
                    target.Fc2.W[o * target.Fc2.In + j] = source.Fc2.W[o * source.Fc2.In + unit];
            }
            source.Fc2.B.CopyTo(target.Fc2.B, 0);
        }
        return pruned;
    }

    /// <summary>Indices of the <paramref name="count"/> most important hidden units of a block, ascending.</summary>
    public static int[] KeptUnits(EncoderBlockWeights block, int count)
    {
        ArgumentNullException.ThrowIfNull(block);
        var hidden = block.Fc1.Out;
        var importance = new double[hidden];
        for (var unit = 0; unit < hidden; unit++)
        {
            double inbound = 0, outbound = 0;
            foreach (var w in block.Fc1.W.AsSpan(unit * block.Fc1.In, block.Fc1.In))
                inbound += (double)w * w;
            for (var o = 0; o < block.Fc2.Out; o++)
            {
                double w = block.Fc2.W[o * block.Fc2.In + unit];
                outbound += w * w;
            }
            importance[unit] = Math.Sqrt(inbound) * Math.Sqrt(outbound);
        }
        return Enumerable.Range(0, hidden).OrderByDescending(unit => importance[unit]).ThenBy(unit => unit)
            .Take(count).Order().ToArray();
    }

    private static void CopyLinear(LinearWeights source, LinearWeights target)
    {
        source.W.CopyTo(target.W, 0);
        source.B.CopyTo(target.B, 0);
    }

    private static void CopyNorm(LayerNormWeights source, LayerNormWeights target)
    {
        source.Gamma.CopyTo(target.Gamma, 0);
        source.Beta.CopyTo(target.Beta, 0);
    }
}
