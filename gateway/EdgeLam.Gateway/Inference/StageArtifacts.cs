using EdgeLam.Contracts.Messages;
using EdgeLam.Model.Onnx;
using EdgeLam.Model.Variants;

namespace EdgeLam.Gateway.Inference;

/// <summary>The deployable bytes of a variant for a device tier: ONNX for agents, the firmware's own blob format for MCUs.</summary>
public interface IStageArtifacts
{
    /// <summary>The model file for <paramref name="variant"/> on a <paramref name="tier"/> device, or null when that tier cannot take it.</summary>
    byte[]? ArtifactFor(StageVariant variant, DeviceTier tier);
}

/// <summary>
/// ONNX exports of the model core's variants, for M/H-tier agents (ONNX Runtime). L-tier firmware runs integer
/// stage blobs instead; a host that can build them wraps this source (<see cref="ArtifactsWithFallback"/>).
/// </summary>
public sealed class OnnxStageArtifacts(IReadOnlyDictionary<ModelVariant, VariantModel> variants) : IStageArtifacts
{
    public byte[]? ArtifactFor(StageVariant variant, DeviceTier tier)
    {
        ArgumentNullException.ThrowIfNull(variant);
        if (tier == DeviceTier.L || !variants.TryGetValue(variant.Variant, out var model)) return null;
        var config = model.Weights.Config;
        return model.Export(ModelStage.Parse(variant.StageId, config));
    }

    /// <summary>The whole FP32 model, for gateway-local (cloud baseline) execution.</summary>
    public byte[] WholeFp32Model() => variants[ModelVariant.Fp32].Export(ModelStage.Whole);
}

/// <summary>Asks <paramref name="primary"/> first, then <paramref name="fallback"/> (e.g. MCU blobs, then ONNX).</summary>
public sealed class ArtifactsWithFallback(IStageArtifacts primary, IStageArtifacts fallback) : IStageArtifacts
{
    public byte[]? ArtifactFor(StageVariant variant, DeviceTier tier) => primary.ArtifactFor(variant, tier) ?? fallback.ArtifactFor(variant, tier);
}

/// <summary>Remembers every artifact <paramref name="inner"/> produced: planning asks for the same variant per device and per re-balance.</summary>
public sealed class CachedStageArtifacts(IStageArtifacts inner) : IStageArtifacts
{
    private readonly System.Collections.Concurrent.ConcurrentDictionary<(string VariantId, DeviceTier Tier), byte[]?> _cache = new();

    public byte[]? ArtifactFor(StageVariant variant, DeviceTier tier)
    {
        ArgumentNullException.ThrowIfNull(variant);
        return _cache.GetOrAdd((variant.VariantId, tier), _ => inner.ArtifactFor(variant, tier));
    }
}
