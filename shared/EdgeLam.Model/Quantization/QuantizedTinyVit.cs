using EdgeLam.Firmware.Quantization;
using EdgeLam.Model.Architecture;

namespace EdgeLam.Model.Quantization;

/// <summary>
/// The INT8 form of a <see cref="TinyVitWeights"/>: every dense layer quantized (per-channel weights,
/// calibrated per-tensor activations); LayerNorm parameters and the position embedding stay float
/// (they act on dequantized values on M/H-tier devices).
/// </summary>
public sealed class QuantizedTinyVit
{
    private readonly Dictionary<LinearWeights, QuantizedLinear> _layers;

    public QuantizedTinyVit(TinyVitWeights source, IReadOnlyDictionary<LinearWeights, QuantizedLinear> layers)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(layers);
        Source = source;
        _layers = new Dictionary<LinearWeights, QuantizedLinear>(layers, ReferenceEqualityComparer.Instance);
        foreach (var (name, layer) in DenseLayers(source))
        {
            if (!_layers.ContainsKey(layer))
                throw new ArgumentException($"Dense layer '{name}' has no quantized form.", nameof(layers));
        }
    }

    /// <summary>The float weights the layers were quantized from (also the float LayerNorm and position parameters).</summary>
    public TinyVitWeights Source { get; }

    /// <summary>The same quantized model with another requantization arithmetic (fixed point for the MCU, ORT-exact for agents).</summary>
    public QuantizedTinyVit WithMode(RequantizationMode mode) =>
        new(Source, _layers.ToDictionary(pair => pair.Key, pair => pair.Value.WithMode(mode), (IEqualityComparer<LinearWeights>)ReferenceEqualityComparer.Instance));

    public QuantizedLinear For(LinearWeights layer) =>
        _layers.TryGetValue(layer, out var quantized)
            ? quantized
            : throw new ArgumentException("This dense layer does not belong to the quantized model.", nameof(layer));

    /// <summary>Every dense layer of the model with a stable name: embed, block{i}.{q,k,v,o,fc1,fc2}, head.</summary>
    public static IEnumerable<(string Name, LinearWeights Layer)> DenseLayers(TinyVitWeights weights)
    {
        ArgumentNullException.ThrowIfNull(weights);
        yield return ("embed", weights.PatchEmbedding);
        for (var i = 0; i < weights.Blocks.Count; i++)
        {
            foreach (var (name, layer) in weights.Blocks[i].Projections())
                yield return ($"block{i}.{name}", layer);
        }
        yield return ("head", weights.Head);
    }

    /// <summary>
    /// Post-training static quantization: runs the float reference over the calibration images, takes each dense
    /// layer's input and output range, then quantizes weights per output channel (TFLite full-integer recipe).
    /// </summary>
    public static QuantizedTinyVit Calibrate(TinyVitWeights weights, float[] calibrationPixels, int calibrationImages,
        ActivationRangeMethod method = ActivationRangeMethod.MinMax, RequantizationMode mode = RequantizationMode.OnnxRuntimeCompatible)
    {
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(calibrationPixels);
        var recorder = new ActivationRangeRecorder(method);
        var forward = new Variants.ReferenceStageForward(weights, recorder);
        const int chunk = 128;
        var pixelsPerImage = weights.Config.PixelsPerImage;
        if (calibrationImages <= 0 || calibrationPixels.Length != calibrationImages * pixelsPerImage)
            throw new ArgumentException($"Calibration needs at least one image of {pixelsPerImage} pixels; got {calibrationPixels.Length} values for {calibrationImages} images.");
        for (var start = 0; start < calibrationImages; start += chunk)
        {
            var count = Math.Min(chunk, calibrationImages - start);
            forward.Run(Onnx.ModelStage.Whole, calibrationPixels.AsSpan(start * pixelsPerImage, count * pixelsPerImage), count);
        }
        var layers = new Dictionary<LinearWeights, QuantizedLinear>(ReferenceEqualityComparer.Instance);
        foreach (var (_, layer) in DenseLayers(weights))
        {
            var (input, output) = recorder.ParametersFor(layer);
            layers[layer] = QuantizedLinear.FromFloat(layer, input, output, mode);
        }
        return new QuantizedTinyVit(weights, layers);
    }
}
