namespace EdgeLam.Model.Architecture;

/// <summary>
/// Shape of the tiny ViT-style encoder that stands in for the large model.
/// Tokens are the non-overlapping patches of one image (no class token); the head mean-pools them.
/// </summary>
public sealed record TinyVitConfig(
    int ImageSize = 28,
    int PatchSize = 7,
    int Channels = 1,
    int ModelDim = 64,
    int Layers = 4,
    int Heads = 4,
    int MlpDim = 128,
    int Classes = 10)
{
    public int PatchesPerSide => ImageSize / PatchSize;
    public int Tokens => PatchesPerSide * PatchesPerSide;
    public int PatchDim => PatchSize * PatchSize * Channels;
    public int PixelsPerImage => ImageSize * ImageSize * Channels;
    public int HeadDim => ModelDim / Heads;

    /// <summary>Throws when the shape cannot form a valid model.</summary>
    public void Validate()
    {
        if (PatchSize <= 0 || ImageSize % PatchSize != 0)
            throw new ArgumentException($"ImageSize {ImageSize} must be a positive multiple of PatchSize {PatchSize}.");
        if (Heads <= 0 || ModelDim % Heads != 0)
            throw new ArgumentException($"ModelDim {ModelDim} must be divisible by Heads {Heads}.");
        if (Layers <= 0 || MlpDim <= 0 || Classes <= 1 || Channels <= 0)
            throw new ArgumentException("Layers, MlpDim, Channels must be positive and Classes at least 2.");
    }

    /// <summary>A configuration small enough for fast unit tests.</summary>
    public static TinyVitConfig Tiny { get; } = new(ImageSize: 28, PatchSize: 7, ModelDim: 16, Layers: 2, Heads: 2, MlpDim: 32);
}
