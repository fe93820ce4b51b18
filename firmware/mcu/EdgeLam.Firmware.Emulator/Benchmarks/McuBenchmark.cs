using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Serialization;
using EdgeLam.Boards;
using EdgeLam.Contracts.Wire;
using EdgeLam.Firmware.Emulator.Stages;
using EdgeLam.Firmware.Kernels;
using EdgeLam.Firmware.Memory;
using EdgeLam.Firmware.Quantization;
using EdgeLam.Firmware.Stages;
using EdgeLam.Model.Architecture;
using EdgeLam.Model.Onnx;
using EdgeLam.Model.Quantization;
using Microsoft.ML.OnnxRuntime;

namespace EdgeLam.Firmware.Emulator.Benchmarks;

/// <summary>One stage of the pipeline: its MACs per image and static INT8 memory plan against the board budget.</summary>
public sealed record McuStageFigures(string StageId, long MultiplyAccumulates, long WeightBytes, long ActivationBytes, long ScratchBytes, long PeakRamBytes, long BudgetBytes, bool Fits, double ModelledMillisecondsAtProfile);

/// <summary>Results of `edgelam bench mcu`; times labelled "modelled" come from the profile's MAC/s, the rest are measured on this host.</summary>
public sealed record McuBenchmarkResult(
    string BoardId,
    double ProfileInt8MacsPerSecond,
    IReadOnlyList<McuStageFigures> Stages,
    string KernelShape,
    double FirmwareKernelMacsPerSecond,
    double OnnxRuntimeInt8MacsPerSecond,
    double FirmwareOverOnnxRuntime,
    int AccuracyImages,
    double Fp32HeadAccuracy,
    double IntegerHeadAccuracy,
    double IntegerHeadAgreement)
{
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.Never };

    public string ToJson() => JsonSerializer.Serialize(this, Json);
}

/// <summary>
/// The MCU benchmark: MACs and peak RAM per stage against the ESP32-WROVER budget, the firmware's optimized int8
/// linear kernel (measured on this host, unpaced) against ONNX Runtime's int8 QGemm on the same shape in one run,
/// and the accuracy of the integer-only head against the FP32 head on Fashion-MNIST test images.
/// </summary>
public static class McuBenchmark
{
    /// <summary>Runs the benchmark; model and test data come from the caller (base checkpoint, Fashion-MNIST).</summary>
    public static McuBenchmarkResult Run(TinyVitWeights weights, EdgeLam.Model.Data.FashionMnistData data, BoardProfile board, int accuracyImages = 1000, int kernelRepetitions = 2000)
    {
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(board);
        var config = weights.Config;
        var macsPerSecond = board.ThroughputAt(NumericPrecision.Int8).Value;
        var budget = board.Memory.ModelBudgetBytes.Value;
        var stages = Int8StageBlobBuilder.Pipeline(config).Select(shape =>
        {
            var plan = StageMemoryPlan.ForInt8(shape, 0);
            return new McuStageFigures(shape.StageId, shape.MultiplyAccumulates, plan.WeightBytes, plan.ActivationBytes, plan.ScratchBytes,
                plan.PeakBytes, budget, plan.PeakBytes <= budget, shape.MultiplyAccumulates / macsPerSecond * 1000.0);
        }).ToList();

        var (firmware, onnx, shapeText) = KernelThroughput(weights.Blocks[^1].Fc1, config.Tokens, kernelRepetitions);

        int images = Math.Min(accuracyImages, data.Test.Count);
        var model = new TinyVitModel(weights);
        var activations = model.NewActivations(images);
        model.ForwardGroup(data.Test.ScaledPixels(0, images), images, activations);
        var head = new Int8HeadStage(Int8StageBlob.Decode(Int8StageBlobBuilder.Head(weights, data.Train.ScaledPixels(0, 512), 512)), RequantizationMode.FixedPoint);
        var tokens = activations.BlockInputs[config.Layers].AsSpan(0, images * config.Tokens * config.ModelDim).ToArray();
        var logits = head.Run(TensorFrame.FromFloatArray(tokens, [images, config.Tokens, config.ModelDim], TensorDataType.Float32)).ToInt8Array();
        var integerPredictions = TinyVitModel.ArgMax(logits.Select(v => (float)v).ToArray(), images, config.Classes);
        var floatPredictions = TinyVitModel.ArgMax(activations.Logits, images, config.Classes);
        int integerCorrect = 0, floatCorrect = 0, agree = 0;
        for (int i = 0; i < images; i++)
        {
            integerCorrect += integerPredictions[i] == data.Test.Labels[i] ? 1 : 0;
            floatCorrect += floatPredictions[i] == data.Test.Labels[i] ? 1 : 0;
            agree += integerPredictions[i] == floatPredictions[i] ? 1 : 0;
        }

        return new McuBenchmarkResult(board.Id, macsPerSecond, stages, shapeText, firmware, onnx, firmware / onnx, images,
            (double)floatCorrect / images, (double)integerCorrect / images, (double)agree / images);
    }

    private static (double Firmware, double OnnxRuntime, string Shape) KernelThroughput(LinearWeights layer, int rows, int repetitions)
    {
        var input = QuantizationParameters.FromRange(-4f, 4f);
        var output = QuantizationParameters.FromRange(-8f, 8f);
        var quantized = QuantizedLinear.FromFloat(layer, input, output, RequantizationMode.OnnxRuntimeCompatible);
        var random = new Random(17);
        var x = new sbyte[rows * layer.In];
        for (int i = 0; i < x.Length; i++) x[i] = (sbyte)random.Next(-128, 128);
        var y = new sbyte[rows * layer.Out];
        long macs = (long)rows * layer.In * layer.Out * repetitions;

        var kernel = new OptimizedInt8LinearKernel();
        kernel.Prepare(quantized.Weights, input, output, RequantizationMode.OnnxRuntimeCompatible);
        kernel.Eval(x, 0, rows, y, 0);
        var stopwatch = Stopwatch.StartNew();
        for (int r = 0; r < repetitions; r++) kernel.Eval(x, 0, rows, y, 0);
        double firmware = macs / stopwatch.Elapsed.TotalSeconds;

        using var options = new SessionOptions { IntraOpNumThreads = 1, GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
        using var session = new InferenceSession(IntegerLayerGraphs.Requantized(quantized), options);
        using var tensor = OrtValue.CreateTensorValueFromMemory(x, [rows, layer.In]);
        var inputs = new Dictionary<string, OrtValue> { [session.InputNames[0]] = tensor };
        using var runOptions = new RunOptions();
        session.Run(runOptions, inputs, session.OutputNames).Dispose();
        stopwatch.Restart();
        for (int r = 0; r < repetitions; r++) session.Run(runOptions, inputs, session.OutputNames).Dispose();
        double onnx = macs / stopwatch.Elapsed.TotalSeconds;
        return (firmware, onnx, $"[{rows}, {layer.In}] x [{layer.In}, {layer.Out}]");
    }
}
