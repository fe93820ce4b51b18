namespace EdgeLam.Model.Architecture;

/// <summary>Everything one forward pass over a group of images keeps for backpropagation.</summary>
public sealed class TinyVitActivations
{
    public TinyVitActivations(TinyVitConfig config, int images, int loraRank = 0)
    {
        Images = images;
        LoraRank = loraRank;
        int tokenValues = images * config.Tokens * config.ModelDim;
        Patches = new float[images * config.Tokens * config.PatchDim];
        BlockInputs = Enumerable.Range(0, config.Layers + 1).Select(_ => new float[tokenValues]).ToArray();
        Blocks = Enumerable.Range(0, config.Layers).Select(_ => new EncoderBlockActivations(config, images, loraRank)).ToArray();
        Head = new ClassifierHeadActivations(config, images);
        Logits = new float[images * config.Classes];
    }

    public int Images { get; }
    public int LoraRank { get; }
    public float[] Patches { get; }
    /// <summary>BlockInputs[i] is the input of block i; BlockInputs[Layers] is the input of the head.</summary>
    public float[][] BlockInputs { get; }
    public EncoderBlockActivations[] Blocks { get; }
    public ClassifierHeadActivations Head { get; }
    public float[] Logits { get; }
}
