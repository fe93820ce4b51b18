using EdgeLam.Contracts.Wire;
using EdgeLam.Firmware.Kernels;
using EdgeLam.Firmware.Memory;
using EdgeLam.Firmware.Quantization;
using EdgeLam.Firmware.Stages;
using EdgeLam.Model.Architecture;

namespace EdgeLam.Firmware.Emulator.Stages;

/// <summary>
/// Builds the INT8 stage blobs the gateway deploys to L-tier devices, by post-training static quantization: the
/// float model runs over calibration images, each activation point takes its min/max range (asymmetric int8),
/// weights are quantized per output channel (TFLite full-integer recipe).
/// </summary>
public static class Int8StageBlobBuilder
{
    /// <summary>The head stage blob ("head"): final LayerNorm, mean over tokens, classifier.</summary>
    public static byte[] Head(TinyVitWeights weights, float[] calibrationPixels, int calibrationImages)
    {
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(calibrationPixels);
        var config = weights.Config;
        var ranges = new Ranges();
        var model = new TinyVitModel(weights);
        const int group = 64;
        var activations = model.NewActivations(group);
        for (int start = 0; start < calibrationImages; start += group)
        {
            int count = Math.Min(group, calibrationImages - start);
            model.ForwardGroup(calibrationPixels.AsSpan(start * config.PixelsPerImage, count * config.PixelsPerImage), count, activations);
            ranges.Observe("input", activations.BlockInputs[config.Layers].AsSpan(0, count * config.Tokens * config.ModelDim));
            ranges.Observe("normalized", activations.Head.NormOutput.AsSpan(0, count * config.Tokens * config.ModelDim));
            ranges.Observe("logits", activations.Logits.AsSpan(0, count * config.Classes));
        }

        var shape = HeadShape(config);
        var bundle = new TensorBundle(Int8StageBlob.HeaderFor(shape));
        var normalized = ranges.Parameters("normalized");
        bundle.Add("quant.input", Int8StageBlob.ActivationFrame(ranges.Parameters("input")));
        bundle.Add("quant.normalized", Int8StageBlob.ActivationFrame(normalized));
        bundle.Add("quant.logits", Int8StageBlob.ActivationFrame(ranges.Parameters("logits")));
        bundle.Add("norm.gamma", TensorFrame.FromFloatArray(weights.FinalNorm.Gamma, [config.ModelDim], TensorDataType.Float32));
        bundle.Add("norm.beta", TensorFrame.FromFloatArray(weights.FinalNorm.Beta, [config.ModelDim], TensorDataType.Float32));
        Int8StageBlob.AddLinear(bundle, "head", QuantizedLinearWeights.Quantize(config.ModelDim, config.Classes, weights.Head.W, weights.Head.B, normalized.Scale));
        return TensorBundleCodec.Encode(bundle);
    }

    /// <summary>The shape of each stage of a configuration, in pipeline order (embed, block0.., head).</summary>
    public static StageShape[] Pipeline(TinyVitConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        var shapes = new List<StageShape> { Shape(config, "embed", StageKind.Embedding) };
        for (int i = 0; i < config.Layers; i++) shapes.Add(Shape(config, $"block{i}", StageKind.Block));
        shapes.Add(HeadShape(config));
        return [.. shapes];
    }

    public static StageShape HeadShape(TinyVitConfig config) => Shape(config, "head", StageKind.Head);

    private static StageShape Shape(TinyVitConfig config, string id, StageKind kind) =>
        new(id, kind, config.Tokens, config.ModelDim, config.Heads, config.MlpDim, config.PatchDim, config.Classes);

    private sealed class Ranges
    {
        private readonly Dictionary<string, (float Minimum, float Maximum)> _ranges = [];

        public void Observe(string point, ReadOnlySpan<float> values)
        {
            var (minimum, maximum) = _ranges.TryGetValue(point, out var known) ? known : (float.MaxValue, float.MinValue);
            foreach (var value in values)
            {
                minimum = Math.Min(minimum, value);
                maximum = Math.Max(maximum, value);
            }

            _ranges[point] = (minimum, maximum);
        }

        public QuantizationParameters Parameters(string point) =>
            QuantizationParameters.FromRange(_ranges[point].Minimum, _ranges[point].Maximum);
    }
}
