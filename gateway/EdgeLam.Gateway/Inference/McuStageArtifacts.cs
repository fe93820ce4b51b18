using System.Collections.Concurrent;
using EdgeLam.Contracts.Messages;
using EdgeLam.Model.Onnx;
using EdgeLam.Model.Quantization;
using EdgeLam.Model.Variants;

namespace EdgeLam.Gateway.Inference;

/// <summary>
/// INT8 stage blobs for L-tier firmware (the firmware's own format, <see cref="EdgeLam.Firmware.Stages.Int8StageBlob"/>),
/// built from the model core's INT8 and Pruned-INT8 variants and calibrated on the given images; null for float
/// variants and for M/H-tier devices (wrap with <see cref="ArtifactsWithFallback"/> to give those ONNX).
/// </summary>
public sealed class McuStageArtifacts : IStageArtifacts
{
    private readonly IReadOnlyDictionary<ModelVariant, VariantModel> _variants;
    private readonly float[] _calibrationPixels;
    private readonly int _calibrationImages;
    private readonly ConcurrentDictionary<ModelVariant, Lazy<Int8StageBlobBuilder>> _builders = new();
    private readonly ConcurrentDictionary<string, byte[]> _blobs = new(StringComparer.Ordinal);

    public McuStageArtifacts(IReadOnlyDictionary<ModelVariant, VariantModel> variants, float[] calibrationPixels, int calibrationImages)
    {
        ArgumentNullException.ThrowIfNull(variants);
        ArgumentNullException.ThrowIfNull(calibrationPixels);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(calibrationImages);
        _variants = variants;
        _calibrationPixels = calibrationPixels;
        _calibrationImages = calibrationImages;
    }

    public byte[]? ArtifactFor(StageVariant variant, DeviceTier tier)
    {
        ArgumentNullException.ThrowIfNull(variant);
        if (tier != DeviceTier.L || !variant.Variant.IsQuantized() || !_variants.TryGetValue(variant.Variant, out var model) || model.Quantized is null) return null;
        return _blobs.GetOrAdd(variant.VariantId, _ =>
        {
            var builder = _builders.GetOrAdd(variant.Variant, _ => new Lazy<Int8StageBlobBuilder>(() => new Int8StageBlobBuilder(model.Quantized, _calibrationPixels, _calibrationImages))).Value;
            return builder.Build(ModelStage.Parse(variant.StageId, builder.Config).Name);
        });
    }
}
