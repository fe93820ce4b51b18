using EdgeLam.Model.Architecture;

namespace EdgeLam.Model.Onnx;

public enum ModelStageKind
{
    /// <summary>Pixels [B, Pixels] → tokens [B, T, D] (patch embedding plus position).</summary>
    Embedding,
    /// <summary>One encoder block, tokens [B, T, D] → tokens [B, T, D].</summary>
    Block,
    /// <summary>Final norm, mean over tokens, linear: tokens [B, T, D] → logits [B, Classes].</summary>
    Head,
    /// <summary>The whole model: pixels [B, Pixels] → logits [B, Classes].</summary>
    Whole,
}

/// <summary>One inference microservice of the model (or the whole model), with its stable name.</summary>
public readonly record struct ModelStage(ModelStageKind Kind, int BlockIndex = 0)
{
    public static ModelStage Embedding { get; } = new(ModelStageKind.Embedding);
    public static ModelStage Head { get; } = new(ModelStageKind.Head);
    public static ModelStage Whole { get; } = new(ModelStageKind.Whole);
    public static ModelStage Block(int index) => new(ModelStageKind.Block, index);

    /// <summary>"embed", "block{i}", "head" or "model".</summary>
    public string Name => Kind switch
    {
        ModelStageKind.Embedding => "embed",
        ModelStageKind.Block => $"block{BlockIndex}",
        ModelStageKind.Head => "head",
        _ => "model",
    };

    public override string ToString() => Name;

    /// <summary>The microservice stages in pipeline order: embed, block0..block{L-1}, head.</summary>
    public static IReadOnlyList<ModelStage> Pipeline(TinyVitConfig config) =>
        [Embedding, .. Enumerable.Range(0, config.Layers).Select(Block), Head];

    /// <summary>Parses a stage name as written by <see cref="Name"/>.</summary>
    public static ModelStage Parse(string name, TinyVitConfig config)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (name == "embed") return Embedding;
        if (name == "head") return Head;
        if (name == "model") return Whole;
        if (name.StartsWith("block", StringComparison.Ordinal)
            && int.TryParse(name.AsSpan(5), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var index)
            && index < config.Layers)
            return Block(index);
        throw new ArgumentException($"Unknown model stage '{name}': expected embed, block0..block{config.Layers - 1}, head or model.", nameof(name));
    }

    public bool TakesPixels => Kind is ModelStageKind.Embedding or ModelStageKind.Whole;
    public bool GivesLogits => Kind is ModelStageKind.Head or ModelStageKind.Whole;

    /// <summary>Per-sample input length (elements).</summary>
    public int InputLength(TinyVitConfig config) => TakesPixels ? config.PixelsPerImage : config.Tokens * config.ModelDim;

    /// <summary>Per-sample output length (elements).</summary>
    public int OutputLength(TinyVitConfig config) => GivesLogits ? config.Classes : config.Tokens * config.ModelDim;

    /// <summary>Tensor shape of the stage input for <paramref name="batch"/> samples.</summary>
    public long[] InputShape(TinyVitConfig config, int batch) =>
        TakesPixels ? [batch, config.PixelsPerImage] : [batch, config.Tokens, config.ModelDim];

    public long[] OutputShape(TinyVitConfig config, int batch) =>
        GivesLogits ? [batch, config.Classes] : [batch, config.Tokens, config.ModelDim];
}
