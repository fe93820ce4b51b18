using EdgeLam.Model.Data;

namespace EdgeLam.Model.Architecture;

/// <summary>
/// Deterministic initialization from a seed: linear weights Xavier-uniform (Glorot and Bengio 2010),
/// biases zero, position embedding N(0, 0.02²) as in ViT, LayerNorm γ = 1, β = 0.
/// </summary>
public static class TinyVitInitializer
{
    public static TinyVitWeights Initialize(TinyVitConfig config, int seed)
    {
        ArgumentNullException.ThrowIfNull(config);
        var weights = new TinyVitWeights(config);
        var random = SeededRandom.ForStream(seed, "tiny-vit-init");
        XavierUniform(weights.PatchEmbedding, random);
        for (int i = 0; i < weights.Position.Length; i++)
            weights.Position[i] = (float)(0.02 * random.NextGaussian());
        foreach (EncoderBlockWeights block in weights.Blocks)
        {
            foreach ((_, LinearWeights linear) in block.Projections())
                XavierUniform(linear, random);
        }
        XavierUniform(weights.Head, random);
        return weights;
    }

    private static void XavierUniform(LinearWeights linear, SeededRandom random)
    {
        double bound = Math.Sqrt(6.0 / (linear.In + linear.Out));
        for (int i = 0; i < linear.W.Length; i++)
            linear.W[i] = (float)(((2.0 * random.NextDouble()) - 1.0) * bound);
        Array.Clear(linear.B);
    }
}
