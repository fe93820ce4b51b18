namespace EdgeLam.Model.Variants;

/// <summary>The precision variants every inference stage is offered in.</summary>
public enum ModelVariant
{
    /// <summary>32-bit float weights and arithmetic.</summary>
    Fp32,
    /// <summary>Weights stored as IEEE half; arithmetic in float after a load-time Cast.</summary>
    Fp16,
    /// <summary>int8 per-channel weights, int8 per-tensor activations, int32 accumulation (TFLite scheme).</summary>
    Int8,
    /// <summary>MLP hidden units removed by structured pruning, then <see cref="Int8"/>.</summary>
    PrunedInt8,
}

public static class ModelVariants
{
    public static IReadOnlyList<ModelVariant> All { get; } = [ModelVariant.Fp32, ModelVariant.Fp16, ModelVariant.Int8, ModelVariant.PrunedInt8];

    /// <summary>The wire and report name: fp32, fp16, int8, pruned_int8.</summary>
    public static string WireName(this ModelVariant variant) => variant switch
    {
        ModelVariant.Fp32 => "fp32",
        ModelVariant.Fp16 => "fp16",
        ModelVariant.Int8 => "int8",
        ModelVariant.PrunedInt8 => "pruned_int8",
        _ => throw new ArgumentOutOfRangeException(nameof(variant), variant, "Unknown model variant."),
    };

    public static ModelVariant ParseWireName(string name)
    {
        foreach (var variant in All)
        {
            if (variant.WireName() == name)
                return variant;
        }
        throw new ArgumentException($"Unknown model variant '{name}': expected fp32, fp16, int8 or pruned_int8.", nameof(name));
    }

    public static bool IsQuantized(this ModelVariant variant) => variant is ModelVariant.Int8 or ModelVariant.PrunedInt8;
}
