namespace EdgeLam.Model.Architecture;

/// <summary>
/// A dense layer y = x·Wᵀ + b. W is row-major [Out, In], so a row is one output channel
/// (the layout ONNX Gemm with transB=1 uses, and the axis of per-channel INT8 weight scales).
/// </summary>
public sealed class LinearWeights(int inFeatures, int outFeatures)
{
    public int In { get; } = inFeatures;
    public int Out { get; } = outFeatures;
    public float[] W { get; } = new float[inFeatures * outFeatures];
    public float[] B { get; } = new float[outFeatures];
}

public sealed class LayerNormWeights(int dim)
{
    public int Dim { get; } = dim;
    public float[] Gamma { get; } = Enumerable.Repeat(1f, dim).ToArray();
    public float[] Beta { get; } = new float[dim];
    public const float Epsilon = 1e-5f;
}

/// <summary>Pre-norm encoder block: x += Attn(LN1(x)); x += Fc2(GELU(Fc1(LN2(x)))).</summary>
public sealed class EncoderBlockWeights
{
    public EncoderBlockWeights(TinyVitConfig c)
    {
        Ln1 = new LayerNormWeights(c.ModelDim);
        Query = new LinearWeights(c.ModelDim, c.ModelDim);
        Key = new LinearWeights(c.ModelDim, c.ModelDim);
        Value = new LinearWeights(c.ModelDim, c.ModelDim);
        Output = new LinearWeights(c.ModelDim, c.ModelDim);
        Ln2 = new LayerNormWeights(c.ModelDim);
        Fc1 = new LinearWeights(c.ModelDim, c.MlpDim);
        Fc2 = new LinearWeights(c.MlpDim, c.ModelDim);
    }

    public LayerNormWeights Ln1 { get; }
    public LinearWeights Query { get; }
    public LinearWeights Key { get; }
    public LinearWeights Value { get; }
    public LinearWeights Output { get; }
    public LayerNormWeights Ln2 { get; }
    public LinearWeights Fc1 { get; }
    public LinearWeights Fc2 { get; }

    /// <summary>The projections LoRA may adapt, by their stable names.</summary>
    public IEnumerable<(string Name, LinearWeights Linear)> Projections()
    {
        yield return ("q", Query);
        yield return ("k", Key);
        yield return ("v", Value);
        yield return ("o", Output);
        yield return ("fc1", Fc1);
        yield return ("fc2", Fc2);
    }
}

/// <summary>
/// All weights of the tiny ViT. Stages for inference microservices: patch embedding
/// (pixels [B, Pixels] → tokens [B, T, D], with position embedding added), one stage per
/// encoder block ([B, T, D] → [B, T, D]), and the head (final LN, mean-pool, linear → logits [B, Classes]).
/// </summary>
public sealed class TinyVitWeights
{
    public TinyVitWeights(TinyVitConfig config)
    {
        config.Validate();
        Config = config;
        PatchEmbedding = new LinearWeights(config.PatchDim, config.ModelDim);
        Position = new float[config.Tokens * config.ModelDim];
        Blocks = Enumerable.Range(0, config.Layers).Select(_ => new EncoderBlockWeights(config)).ToArray();
        FinalNorm = new LayerNormWeights(config.ModelDim);
        Head = new LinearWeights(config.ModelDim, config.Classes);
    }

    public TinyVitConfig Config { get; }
    public LinearWeights PatchEmbedding { get; }
    /// <summary>Learned position embedding, row-major [Tokens, ModelDim].</summary>
    public float[] Position { get; }
    public IReadOnlyList<EncoderBlockWeights> Blocks { get; }
    public LayerNormWeights FinalNorm { get; }
    public LinearWeights Head { get; }

    /// <summary>
    /// Every parameter tensor with a stable name and shape, in a fixed order: patch_embedding, position,
    /// blocks.{i}.{ln1|q|k|v|o|ln2|fc1|fc2}.{weight|bias} (LayerNorm: weight = γ, bias = β), final_norm, head.
    /// The arrays are the live weights, not copies.
    /// </summary>
    public IEnumerable<(string Name, int[] Shape, float[] Values)> Tensors()
    {
        foreach (var tensor in Linear("patch_embedding", PatchEmbedding))
            yield return tensor;
        yield return ("position", [Config.Tokens, Config.ModelDim], Position);
        for (int i = 0; i < Blocks.Count; i++)
        {
            EncoderBlockWeights block = Blocks[i];
            foreach (var tensor in Norm($"blocks.{i}.ln1", block.Ln1))
                yield return tensor;
            foreach ((string name, LinearWeights linear) in block.Projections().Take(4))
            {
                foreach (var tensor in Linear($"blocks.{i}.{name}", linear))
                    yield return tensor;
            }
            foreach (var tensor in Norm($"blocks.{i}.ln2", block.Ln2))
                yield return tensor;
            foreach (var tensor in Linear($"blocks.{i}.fc1", block.Fc1))
                yield return tensor;
            foreach (var tensor in Linear($"blocks.{i}.fc2", block.Fc2))
                yield return tensor;
        }
        foreach (var tensor in Norm("final_norm", FinalNorm))
            yield return tensor;
        foreach (var tensor in Linear("head", Head))
            yield return tensor;
    }

    public int ParameterCount => Tensors().Sum(tensor => tensor.Values.Length);

    /// <summary>A deep copy.</summary>
    public TinyVitWeights Clone()
    {
        var copy = new TinyVitWeights(Config);
        foreach (var (source, target) in Tensors().Zip(copy.Tensors()))
            source.Values.CopyTo(target.Values, 0);
        return copy;
    }

    /// <summary>Same shapes with every value zero (LayerNorm γ included): a gradient buffer.</summary>
    public static TinyVitWeights CreateZero(TinyVitConfig config)
    {
        var zero = new TinyVitWeights(config);
        foreach (var tensor in zero.Tensors())
            Array.Clear(tensor.Values);
        return zero;
    }

    private static IEnumerable<(string, int[], float[])> Linear(string name, LinearWeights linear)
    {
        yield return ($"{name}.weight", [linear.Out, linear.In], linear.W);
        yield return ($"{name}.bias", [linear.Out], linear.B);
    }

    private static IEnumerable<(string, int[], float[])> Norm(string name, LayerNormWeights norm)
    {
        yield return ($"{name}.weight", [norm.Dim], norm.Gamma);
        yield return ($"{name}.bias", [norm.Dim], norm.Beta);
    }
}
