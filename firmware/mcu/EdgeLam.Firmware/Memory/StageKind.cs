namespace EdgeLam.Firmware.Memory;

/// <summary>Which part of the tiny ViT a stage is (DESIGN.md, "The model": patch embedding, encoder blocks, head).</summary>
public enum StageKind
{
    /// <summary>Pixels to tokens: patch projection plus position embedding.</summary>
    Embedding = 0,

    /// <summary>One encoder block: tokens to tokens.</summary>
    Block = 1,

    /// <summary>Final LayerNorm, mean over tokens, classifier: tokens to logits.</summary>
    Head = 2,
}
