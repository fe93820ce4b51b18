using System.Collections.Concurrent;
using EdgeLam.Firmware.Quantization;
using EdgeLam.Model.Architecture;
using EdgeLam.Model.Onnx;
using EdgeLam.Model.Quantization;

namespace EdgeLam.Model.Variants;

/// <summary>How the variants are derived from the float base model.</summary>
public sealed record VariantBuildOptions
{
    /// <summary>Training images whose activations set the int8 activation ranges.</summary>
    public int CalibrationImages { get; init; } = 512;
    public ActivationRangeMethod ActivationRange { get; init; } = ActivationRangeMethod.MinMax;
    /// <summary>Fraction of MLP hidden units removed in every block for Pruned-INT8.</summary>
    public double PrunedMlpSparsity { get; init; } = 0.25;
    /// <summary>Requantization of the managed INT8 reference: ORT-exact for agents, fixed point for the MCU.</summary>
    public RequantizationMode Requantization { get; init; } = RequantizationMode.OnnxRuntimeCompatible;

    public void Validate()
    {
        if (CalibrationImages <= 0)
            throw new ArgumentOutOfRangeException(nameof(CalibrationImages), CalibrationImages, "Calibration needs at least one image.");
        if (!(PrunedMlpSparsity >= 0 && PrunedMlpSparsity < 1))
            throw new ArgumentOutOfRangeException(nameof(PrunedMlpSparsity), PrunedMlpSparsity, "MLP sparsity must be in [0, 1).");
    }
}

/// <summary>
/// One precision variant of the model: the weights it computes with, its ONNX model per stage (serialized once and
/// cached) and its managed reference forward.
/// </summary>
public sealed class VariantModel
{
    private readonly TinyVitOnnxExporter _exporter;
    private readonly ConcurrentDictionary<ModelStage, byte[]> _exports = new();

    private VariantModel(ModelVariant variant, TinyVitWeights weights, QuantizedTinyVit? quantized, double mlpSparsity)
    {
        Variant = variant;
        Weights = weights;
        Quantized = quantized;
        MlpSparsity = mlpSparsity;
        _exporter = quantized is null ? new TinyVitOnnxExporter(weights, variant) : new TinyVitOnnxExporter(quantized, variant);
        Managed = new ReferenceStageForward(weights, quantized is null ? FloatLinearExecutor.Instance : new QuantizedLinearExecutor(quantized));
    }

    public ModelVariant Variant { get; }
    /// <summary>The float weights this variant computes with (half-rounded for FP16, pruned for Pruned-INT8).</summary>
    public TinyVitWeights Weights { get; }
    /// <summary>The integer layers, for INT8 and Pruned-INT8.</summary>
    public QuantizedTinyVit? Quantized { get; }
    /// <summary>Fraction of MLP hidden units removed (0 except for Pruned-INT8).</summary>
    public double MlpSparsity { get; }
    /// <summary>The managed forward of this variant (integer dense layers for the INT8 variants).</summary>
    public ReferenceStageForward Managed { get; }

    /// <summary>The serialized ONNX model of a stage.</summary>
    public byte[] Export(ModelStage stage) => _exports.GetOrAdd(stage, _exporter.ExportBytes);

    /// <summary>Bytes of the serialized ONNX model of a stage (the whole model by default): what a device downloads.</summary>
    public int SerializedBytes(ModelStage? stage = null) => Export(stage ?? ModelStage.Whole).Length;

    public static VariantModel Fp32(TinyVitWeights weights) => new(ModelVariant.Fp32, weights, null, 0);

    /// <summary>FP16: every parameter rounded to IEEE half (what the FP16 model stores), arithmetic in float.</summary>
    public static VariantModel Fp16(TinyVitWeights weights)
    {
        ArgumentNullException.ThrowIfNull(weights);
        var rounded = weights.Clone();
        foreach (var (_, _, values) in rounded.Tensors())
        {
            for (var i = 0; i < values.Length; i++)
                values[i] = (float)(Half)values[i];
        }
        return new VariantModel(ModelVariant.Fp16, rounded, null, 0);
    }

    /// <summary>INT8 post-training static quantization calibrated on <paramref name="calibrationPixels"/>.</summary>
    public static VariantModel Int8(TinyVitWeights weights, float[] calibrationPixels, int calibrationImages, VariantBuildOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var quantized = QuantizedTinyVit.Calibrate(weights, calibrationPixels, calibrationImages, options.ActivationRange, options.Requantization);
        return new VariantModel(ModelVariant.Int8, weights, quantized, 0);
    }

    /// <summary>MLP channel pruning at <see cref="VariantBuildOptions.PrunedMlpSparsity"/>, then INT8 calibrated on the pruned model.</summary>
    public static VariantModel PrunedInt8(TinyVitWeights weights, float[] calibrationPixels, int calibrationImages, VariantBuildOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var pruned = MlpChannelPruning.Prune(weights, options.PrunedMlpSparsity);
        var quantized = QuantizedTinyVit.Calibrate(pruned, calibrationPixels, calibrationImages, options.ActivationRange, options.Requantization);
        return new VariantModel(ModelVariant.PrunedInt8, pruned, quantized, options.PrunedMlpSparsity);
    }

    /// <summary>All four variants of <paramref name="weights"/>, calibrated on the first images of <paramref name="calibration"/>.</summary>
    public static IReadOnlyDictionary<ModelVariant, VariantModel> BuildAll(TinyVitWeights weights, Data.Dataset calibration, VariantBuildOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(calibration);
        options ??= new VariantBuildOptions();
        options.Validate();
        var count = Math.Min(options.CalibrationImages, calibration.Count);
        var pixels = calibration.ScaledPixels(0, count);
        return new Dictionary<ModelVariant, VariantModel>
        {
            [ModelVariant.Fp32] = Fp32(weights),
            [ModelVariant.Fp16] = Fp16(weights),
            [ModelVariant.Int8] = Int8(weights, pixels, count, options),
            [ModelVariant.PrunedInt8] = PrunedInt8(weights, pixels, count, options),
        };
    }
}
