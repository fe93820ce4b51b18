using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Serialization;
using EdgeLam.Boards;
using EdgeLam.Contracts.Messages;
using EdgeLam.Firmware.Emulator.Stages;
using EdgeLam.Firmware.Kernels;
using EdgeLam.Firmware.Memory;
using EdgeLam.Firmware.Quantization;
using EdgeLam.Firmware.Stages;
using EdgeLam.Model.Architecture;
using EdgeLam.Model.Data;
using EdgeLam.Model.Onnx;
using EdgeLam.Model.Quantization;
using EdgeLam.Model.Variants;
using Microsoft.ML.OnnxRuntime;

namespace EdgeLam.Firmware.Emulator.Benchmarks;

/// <summary>One stage of one integer variant: MACs per image, blob size and static memory plan against the board budget.</summary>
public sealed record McuStageFigures(string StageId, string Variant, long MultiplyAccumulates, long BlobBytes, bool FitsInlineDeployment,
    long WeightBytes, long ActivationBytes, long ScratchBytes, long PeakRamBytes, long BudgetBytes, bool Fits, double ModelledMillisecondsAtProfile);

/// <summary>int8 MAC/s of the firmware's optimized kernel and of ONNX Runtime on one linear shape, measured in the same run on this host.</summary>
public sealed record McuKernelThroughput(string Layer, string Shape, double FirmwareMacsPerSecond, double OnnxRuntimeQGemmMacsPerSecond,
    double OnnxRuntimeMatMulIntegerMacsPerSecond, double FirmwareOverQGemm, double FirmwareOverMatMulInteger);

/// <summary>Accuracy of one way of running the whole chain on the same test images.</summary>
public sealed record McuChainAccuracy(string Chain, double Accuracy, double AgreementWithFp32);

/// <summary>Results of `edgelam bench mcu`; times labelled "modelled" come from the profile's MAC/s, the rest are measured on this host.</summary>
public sealed record McuBenchmarkResult(
    string BoardId,
    double ProfileInt8MacsPerSecond,
    IReadOnlyList<McuStageFigures> Stages,
    IReadOnlyList<McuKernelThroughput> Kernels,
    double FirmwareOverOnnxRuntime,
    int AccuracyImages,
    IReadOnlyList<McuChainAccuracy> Chains,
    double MaximumBlockErrorSteps)
{
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.Never };

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    public McuChainAccuracy Chain(string name) => Chains.Single(c => c.Chain == name);
}

/// <summary>
/// The MCU benchmark: per stage of the INT8 and Pruned-INT8 variants, MACs, blob size and peak RAM against the
/// board budget; the firmware's optimized int8 linear kernel (on this host, unpaced) against ONNX Runtime's int8
/// QGemm and MatMulInteger on every linear shape of the model in one run; and whole-chain accuracy on the first
/// Fashion-MNIST test images of FP32, the model core's INT8 reference, and the firmware's integer-only stages.
/// </summary>
public static class McuBenchmark
{
    /// <summary>Runs the benchmark; model and test data come from the caller (base checkpoint, Fashion-MNIST).</summary>
    public static McuBenchmarkResult Run(TinyVitWeights weights, FashionMnistData data, BoardProfile board, int accuracyImages = 1000, int kernelRepetitions = 2000, int calibrationImages = 512)
    {
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(board);
        var macsPerSecond = board.ThroughputAt(NumericPrecision.Int8).Value;
        var budget = board.Memory.ModelBudgetBytes.Value;
        var calibration = data.Train.Take(Math.Min(calibrationImages, data.Train.Count));
        var options = new VariantBuildOptions { CalibrationImages = calibration.Count, Requantization = RequantizationMode.FixedPoint };
        var pixels = calibration.ScaledPixels(0, calibration.Count);
        var int8 = VariantModel.Int8(weights, pixels, calibration.Count, options);
        var pruned = VariantModel.PrunedInt8(weights, pixels, calibration.Count, options);
        var int8Chain = McuIntegerChain.Build(int8, pixels, calibration.Count);
        var prunedChain = McuIntegerChain.Build(pruned, pixels, calibration.Count);

        var stages = new List<McuStageFigures>();
        foreach (var chain in new[] { int8Chain, prunedChain })
        {
            foreach (var stage in chain.Stages)
            {
                var plan = StageMemoryPlan.ForInt8(stage.Shape, stage.MemoryPlan.BlobBytes);
                stages.Add(new McuStageFigures(stage.Shape.StageId, chain.Variant.WireName(), stage.Shape.MultiplyAccumulates, plan.BlobBytes, plan.BlobBytes <= Deployment.MaxInlineBytes,
                    plan.WeightBytes, plan.ActivationBytes, plan.ScratchBytes, plan.PeakBytes, budget, plan.PeakBytes <= budget, stage.Shape.MultiplyAccumulates / macsPerSecond * 1000.0));
            }
        }

        var shapes = LinearShapes(int8).ToList();
        var kernels = shapes.Select(layer => KernelThroughput(layer.Name, layer.Layer, layer.Rows, kernelRepetitions)).ToList();
        // Seconds for one pass over every shape (MACs of each shape over its rate), firmware against QGemm.
        var macsPerShape = shapes.Select(s => (double)s.Rows * s.Layer.In * s.Layer.Out).ToList();
        var firmwareSeconds = macsPerShape.Select((macs, i) => macs / kernels[i].FirmwareMacsPerSecond).Sum();
        var onnxSeconds = macsPerShape.Select((macs, i) => macs / kernels[i].OnnxRuntimeQGemmMacsPerSecond).Sum();

        var images = Math.Min(accuracyImages, data.Test.Count);
        var test = data.Test.ScaledPixels(0, images);
        var labels = data.Test.Labels.AsSpan(0, images).ToArray();
        var fp32 = Predict(new TinyVitModel(weights), test, images);
        var reference = TinyVitModel.ArgMax(int8.Managed.Run(ModelStage.Whole, test, images), images, weights.Config.Classes);
        var firmware = int8Chain.Predict(test, images);
        var firmwarePruned = prunedChain.Predict(test, images);
        var chains = new List<McuChainAccuracy>
        {
            Score("fp32", fp32, fp32, labels),
            Score("int8-model-core-reference", reference, fp32, labels),
            Score("int8-firmware-integer-only", firmware, fp32, labels),
            Score("pruned-int8-firmware-integer-only", firmwarePruned, fp32, labels),
        };
        var blockError = int8Chain.MaximumBlockErrorSteps(int8, test, Math.Min(images, 64));
        return new McuBenchmarkResult(board.Id, macsPerSecond, stages, kernels, onnxSeconds / firmwareSeconds, images, chains, blockError);
    }

    private static int[] Predict(TinyVitModel model, float[] pixels, int images)
    {
        var activations = model.NewActivations(images);
        model.ForwardGroup(pixels, images, activations);
        return TinyVitModel.ArgMax(activations.Logits, images, model.Weights.Config.Classes);
    }

    private static McuChainAccuracy Score(string name, int[] predictions, int[] fp32, byte[] labels)
    {
        int correct = 0, agree = 0;
        for (var i = 0; i < labels.Length; i++)
        {
            correct += predictions[i] == labels[i] ? 1 : 0;
            agree += predictions[i] == fp32[i] ? 1 : 0;
        }

        return new McuChainAccuracy(name, (double)correct / labels.Length, (double)agree / labels.Length);
    }

    /// <summary>Every distinct linear shape of the model with the rows one image feeds it.</summary>
    private static IEnumerable<(string Name, QuantizedLinear Layer, int Rows)> LinearShapes(VariantModel variant)
    {
        var model = variant.Quantized!;
        var source = model.Source;
        var tokens = source.Config.Tokens;
        yield return ("embed", model.For(source.PatchEmbedding), tokens);
        yield return ("q/k/v/o", model.For(source.Blocks[^1].Query), tokens);
        yield return ("fc1", model.For(source.Blocks[^1].Fc1), tokens);
        yield return ("fc2", model.For(source.Blocks[^1].Fc2), tokens);
        yield return ("head", model.For(source.Head), 1);
    }

    private static McuKernelThroughput KernelThroughput(string name, QuantizedLinear layer, int rows, int repetitions)
    {
        var random = new Random(17);
        var x = new sbyte[rows * layer.In];
        for (var i = 0; i < x.Length; i++) x[i] = (sbyte)random.Next(-128, 128);
        var y = new sbyte[rows * layer.Out];
        var macs = (long)rows * layer.In * layer.Out * repetitions;

        var kernel = new OptimizedInt8LinearKernel();
        kernel.Prepare(layer.Weights, layer.Input, layer.Output, RequantizationMode.OnnxRuntimeCompatible);
        kernel.Eval(x, 0, rows, y, 0);
        var stopwatch = Stopwatch.StartNew();
        for (var r = 0; r < repetitions; r++) kernel.Eval(x, 0, rows, y, 0);
        var firmware = macs / stopwatch.Elapsed.TotalSeconds;
        var qgemm = macs / TimeOnnxRuntime(IntegerLayerGraphs.Requantized(layer), x, rows, layer.In, repetitions);
        var matMulInteger = macs / TimeOnnxRuntime(IntegerLayerGraphs.Accumulators(layer), x, rows, layer.In, repetitions);
        return new McuKernelThroughput(name, $"[{rows}, {layer.In}] x [{layer.In}, {layer.Out}]", firmware, qgemm, matMulInteger, firmware / qgemm, firmware / matMulInteger);
    }

    private static double TimeOnnxRuntime(byte[] model, sbyte[] x, int rows, int inFeatures, int repetitions)
    {
        using var options = new SessionOptions { IntraOpNumThreads = 1, GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
        using var session = new InferenceSession(model, options);
        using var tensor = OrtValue.CreateTensorValueFromMemory(x, [rows, inFeatures]);
        var inputs = new Dictionary<string, OrtValue> { [session.InputNames[0]] = tensor };
        using var runOptions = new RunOptions();
        session.Run(runOptions, inputs, session.OutputNames).Dispose();
        var stopwatch = Stopwatch.StartNew();
        for (var r = 0; r < repetitions; r++) session.Run(runOptions, inputs, session.OutputNames).Dispose();
        return stopwatch.Elapsed.TotalSeconds;
    }
}
