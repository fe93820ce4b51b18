using EdgeLam.Contracts.Wire;
using EdgeLam.Firmware.Kernels;
using EdgeLam.Firmware.Memory;
using EdgeLam.Firmware.Quantization;
using EdgeLam.Firmware.Stages;
using EdgeLam.Model.Architecture;
using EdgeLam.Model.Onnx;
using EdgeLam.Model.Variants;

namespace EdgeLam.Model.Quantization;

/// <summary>
/// Builds the INT8 stage blobs L-tier firmware runs (<see cref="Int8StageBlob"/>) from the model core's INT8 (or
/// Pruned-INT8) reference: every dense layer is the reference's own quantized layer (same int8 weights, int32 bias,
/// input and output quantization), so the firmware's linears compute exactly what the reference's do. The points the
/// reference keeps in float — the residual stream between stages, attention scores, the residual after attention,
/// the final LayerNorm — get int8 ranges from the reference's own forward over the calibration images (min/max,
/// TFLite's full-integer recipe).
/// </summary>
public sealed class Int8StageBlobBuilder
{
    private readonly QuantizedTinyVit _model;
    private readonly Dictionary<string, (float Minimum, float Maximum)> _ranges = new(StringComparer.Ordinal);

    public Int8StageBlobBuilder(QuantizedTinyVit model, float[] calibrationPixels, int calibrationImages)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(calibrationPixels);
        var config = model.Source.Config;
        if (calibrationImages <= 0 || calibrationPixels.Length != calibrationImages * config.PixelsPerImage)
            throw new ArgumentException($"Calibration needs at least one image of {config.PixelsPerImage} pixels; got {calibrationPixels.Length} values for {calibrationImages} images.");
        _model = model;
        var forward = new ReferenceStageForward(model.Source, new QuantizedLinearExecutor(model), Observe);
        const int chunk = 128;
        for (var start = 0; start < calibrationImages; start += chunk)
        {
            var count = Math.Min(chunk, calibrationImages - start);
            forward.Run(ModelStage.Whole, calibrationPixels.AsSpan(start * config.PixelsPerImage, count * config.PixelsPerImage), count);
        }
    }

    /// <summary>The configuration of the quantized model (a Pruned-INT8 model has a smaller MLP).</summary>
    public TinyVitConfig Config => _model.Source.Config;

    /// <summary>The head blob of a float model, calibrated on its own (fixed-point requantization, the device's).</summary>
    public static byte[] Head(TinyVitWeights weights, float[] calibrationPixels, int calibrationImages) =>
        new Int8StageBlobBuilder(QuantizedTinyVit.Calibrate(weights, calibrationPixels, calibrationImages, ActivationRangeMethod.MinMax, RequantizationMode.FixedPoint),
            calibrationPixels, calibrationImages).Head();

    /// <summary>The blob of a stage by its wire id: embed, block{i} or head.</summary>
    public byte[] Build(string stageId)
    {
        var stage = ModelStage.Parse(stageId, Config);
        return stage.Kind switch
        {
            ModelStageKind.Embedding => Embedding(),
            ModelStageKind.Block => Block(stage.BlockIndex),
            ModelStageKind.Head => Head(),
            _ => throw new ArgumentException("The whole model is not a firmware stage; build embed, block{i} and head.", nameof(stageId)),
        };
    }

    /// <summary>Pixels → tokens: the projection, the position embedding as int8, the output at the residual stream's range.</summary>
    public byte[] Embedding()
    {
        var c = Config;
        var layer = _model.For(_model.Source.PatchEmbedding);
        var bundle = new TensorBundle(Int8StageBlob.HeaderFor(ShapeOf(c, "embed")));
        AddActivation(bundle, "input", layer.Input);
        AddActivation(bundle, "projected", layer.Output);
        AddActivation(bundle, "output", Range("embed.output"));
        var positionValues = _model.Source.Position;
        var position = QuantizationParameters.FromRange(positionValues.Min(), positionValues.Max());
        var codes = positionValues.Select(position.Quantize).ToArray();
        bundle.Add("position", TensorFrame.FromInt8(codes, [c.Tokens, c.ModelDim], QuantizationKind.PerTensor, 0, [position.Scale], [position.ZeroPoint]));
        Int8StageBlob.AddLinear(bundle, "embed", layer.Weights);
        return TensorBundleCodec.Encode(bundle);
    }

    /// <summary>One encoder block: the reference's six quantized linears, LayerNorm parameters and every activation's range.</summary>
    public byte[] Block(int index)
    {
        var c = Config;
        if (index < 0 || index >= c.Layers) throw new ArgumentOutOfRangeException(nameof(index), index, $"The model has blocks 0..{c.Layers - 1}.");
        var block = _model.Source.Blocks[index];
        var (query, key, value) = (_model.For(block.Query), _model.For(block.Key), _model.For(block.Value));
        var (output, fc1, fc2) = (_model.For(block.Output), _model.For(block.Fc1), _model.For(block.Fc2));
        if (!SameQuantization(query.Input, key.Input) || !SameQuantization(query.Input, value.Input))
            throw new InvalidOperationException($"Block {index}: Q, K and V were calibrated on one tensor but their input quantizations differ.");
        var bundle = new TensorBundle(Int8StageBlob.HeaderFor(ShapeOf(c, $"block{index}")));
        AddActivation(bundle, "input", StageInput(index));
        AddActivation(bundle, "ln1", query.Input);
        AddActivation(bundle, "q", query.Output);
        AddActivation(bundle, "k", key.Output);
        AddActivation(bundle, "v", value.Output);
        // The reference scales scores by 1/√dh before softmax; the firmware keeps raw Q·Kᵀ and folds 1/√dh into its softmax β.
        var (low, high) = _ranges.TryGetValue($"block{index}.scores", out var scores) ? scores : throw Uncalibrated($"block{index}.scores");
        var unscale = MathF.Sqrt(c.HeadDim);
        AddActivation(bundle, "scores", QuantizationParameters.FromRange(low * unscale, high * unscale));
        AddActivation(bundle, "context", output.Input);
        AddActivation(bundle, "attention", output.Output);
        AddActivation(bundle, "residual", Range($"block{index}.residual"));
        AddActivation(bundle, "ln2", fc1.Input);
        AddActivation(bundle, "fc1", fc1.Output);
        AddActivation(bundle, "gelu", fc2.Input);
        AddActivation(bundle, "fc2", fc2.Output);
        AddActivation(bundle, "output", Range($"block{index}.output"));
        AddNorm(bundle, "ln1", block.Ln1);
        AddNorm(bundle, "ln2", block.Ln2);
        Int8StageBlob.AddLinear(bundle, "q", query.Weights);
        Int8StageBlob.AddLinear(bundle, "k", key.Weights);
        Int8StageBlob.AddLinear(bundle, "v", value.Weights);
        Int8StageBlob.AddLinear(bundle, "o", output.Weights);
        Int8StageBlob.AddLinear(bundle, "fc1", fc1.Weights);
        Int8StageBlob.AddLinear(bundle, "fc2", fc2.Weights);
        return TensorBundleCodec.Encode(bundle);
    }

    /// <summary>Final LayerNorm, mean over tokens requantized to the classifier's input, the reference's classifier.</summary>
    public byte[] Head()
    {
        var c = Config;
        var head = _model.For(_model.Source.Head);
        var bundle = new TensorBundle(Int8StageBlob.HeaderFor(ShapeOf(c, "head")));
        AddActivation(bundle, "input", StageInput(c.Layers));
        AddActivation(bundle, "normalized", Range("head.normalized"));
        AddActivation(bundle, "pooled", head.Input);
        AddActivation(bundle, "logits", head.Output);
        AddNorm(bundle, "norm", _model.Source.FinalNorm);
        Int8StageBlob.AddLinear(bundle, "head", head.Weights);
        return TensorBundleCodec.Encode(bundle);
    }

    /// <summary>Quantization of the residual stream entering stage block{index} (index = Layers: the head).</summary>
    public QuantizationParameters StageInput(int blockIndex) => Range(blockIndex == 0 ? "embed.output" : $"block{blockIndex - 1}.output");

    /// <summary>The shape of each stage of a configuration, in pipeline order (embed, block0.., head).</summary>
    public static StageShape[] Pipeline(TinyVitConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        return [.. ModelStage.Pipeline(config).Select(stage => ShapeOf(config, stage.Name))];
    }

    public static StageShape HeadShape(TinyVitConfig config) => ShapeOf(config, "head");

    /// <summary>The firmware's shape of a stage (embed, block{i}, head) of a configuration.</summary>
    public static StageShape ShapeOf(TinyVitConfig config, string stageId)
    {
        ArgumentNullException.ThrowIfNull(config);
        var kind = ModelStage.Parse(stageId, config).Kind switch
        {
            ModelStageKind.Embedding => StageKind.Embedding,
            ModelStageKind.Block => StageKind.Block,
            ModelStageKind.Head => StageKind.Head,
            _ => throw new ArgumentException("The whole model is not a firmware stage.", nameof(stageId)),
        };
        return new StageShape(stageId, kind, config.Tokens, config.ModelDim, config.Heads, config.MlpDim, config.PatchDim, config.Classes);
    }

    private void Observe(string point, ReadOnlySpan<float> values)
    {
        var (minimum, maximum) = _ranges.TryGetValue(point, out var known) ? known : (float.MaxValue, float.MinValue);
        minimum = Math.Min(minimum, System.Numerics.Tensors.TensorPrimitives.Min(values));
        maximum = Math.Max(maximum, System.Numerics.Tensors.TensorPrimitives.Max(values));
        _ranges[point] = (minimum, maximum);
    }

    private QuantizationParameters Range(string point) =>
        _ranges.TryGetValue(point, out var range) ? QuantizationParameters.FromRange(range.Minimum, range.Maximum) : throw Uncalibrated(point);

    private static InvalidOperationException Uncalibrated(string point) => new($"The calibration forward never reached activation point '{point}'.");

    private static bool SameQuantization(QuantizationParameters a, QuantizationParameters b) => a.Scale == b.Scale && a.ZeroPoint == b.ZeroPoint;

    private static void AddActivation(TensorBundle bundle, string point, QuantizationParameters parameters) =>
        bundle.Add("quant." + point, Int8StageBlob.ActivationFrame(parameters));

    private static void AddNorm(TensorBundle bundle, string name, LayerNormWeights norm)
    {
        bundle.Add(name + ".gamma", TensorFrame.FromFloatArray(norm.Gamma, [norm.Dim], TensorDataType.Float32));
        bundle.Add(name + ".beta", TensorFrame.FromFloatArray(norm.Beta, [norm.Dim], TensorDataType.Float32));
    }
}
