using EdgeLam.Model.Architecture;

namespace EdgeLam.Model.Tests.Variants;

/// <summary>Small deterministic models and inputs for the variant, ONNX and quantization tests.</summary>
internal static class TestModels
{
    /// <summary>A tiny model with seeded random weights of realistic scale (Xavier-like), non-trivial LayerNorm and position.</summary>
    public static TinyVitWeights RandomTiny(int seed = 7, TinyVitConfig? config = null)
    {
        var weights = new TinyVitWeights(config ?? TinyVitConfig.Tiny);
        var random = new Random(seed);
        void Fill(float[] values, float scale)
        {
            for (var i = 0; i < values.Length; i++)
                values[i] = (float)(random.NextDouble() * 2 - 1) * scale;
        }
        void FillLinear(LinearWeights layer)
        {
            Fill(layer.W, MathF.Sqrt(3f / layer.In));
            Fill(layer.B, 0.1f);
        }
        void FillNorm(LayerNormWeights norm)
        {
            for (var i = 0; i < norm.Dim; i++)
            {
                norm.Gamma[i] = 1f + (float)(random.NextDouble() - 0.5) * 0.4f;
                norm.Beta[i] = (float)(random.NextDouble() - 0.5) * 0.2f;
            }
        }
        FillLinear(weights.PatchEmbedding);
        Fill(weights.Position, 0.5f);
        foreach (var block in weights.Blocks)
        {
            FillNorm(block.Ln1);
            FillNorm(block.Ln2);
            foreach (var (_, layer) in block.Projections())
                FillLinear(layer);
        }
        FillNorm(weights.FinalNorm);
        FillLinear(weights.Head);
        return weights;
    }

    /// <summary>Pixels in [0, 1] on the byte grid (byte / 255), as the data loader yields them.</summary>
    public static float[] RandomPixels(TinyVitConfig config, int batch, int seed = 11)
    {
        var random = new Random(seed);
        var pixels = new float[batch * config.PixelsPerImage];
        for (var i = 0; i < pixels.Length; i++)
            pixels[i] = random.Next(256) / 255f;
        return pixels;
    }

    public static float[] RandomTokens(TinyVitConfig config, int batch, int seed = 13)
    {
        var random = new Random(seed);
        var tokens = new float[batch * config.Tokens * config.ModelDim];
        for (var i = 0; i < tokens.Length; i++)
            tokens[i] = (float)(random.NextDouble() * 4 - 2);
        return tokens;
    }

    public static float MaxAbsDifference(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        Assert.Equal(a.Length, b.Length);
        var max = 0f;
        for (var i = 0; i < a.Length; i++)
            max = MathF.Max(max, MathF.Abs(a[i] - b[i]));
        return max;
    }
}
