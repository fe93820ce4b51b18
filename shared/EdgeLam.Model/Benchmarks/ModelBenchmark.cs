using System.Diagnostics;
using System.Globalization;
using EdgeLam.Model.Architecture;
using EdgeLam.Model.Checkpoints;
using EdgeLam.Model.Data;
using EdgeLam.Model.Lora;
using EdgeLam.Model.Onnx;
using EdgeLam.Model.Training;
using EdgeLam.Model.Variants;

namespace EdgeLam.Model.Benchmarks;

/// <summary>
/// Measures the model side end to end: base accuracy, the central fine-tuning references (full and LoRA on the union
/// of all device shards), every inference variant in ONNX Runtime (whole model and each stage swapped alone into FP32),
/// serialized sizes, agreement of ONNX Runtime with the managed forward, and forward latency of one stage.
/// </summary>
public static class ModelBenchmark
{
    public static ModelBenchmarkResult Run(ModelBenchmarkOptions options, Action<string>? log = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        log ??= _ => { };
        var total = Stopwatch.StartNew();
        var config = options.Config;

        var data = FashionMnist.Load(options.DataDirectory);
        var test = options.TestImages is int count ? data.Test.Take(count) : data.Test;
        var checkpoint = BaseCheckpoint.LoadOrTrain(config, options.Seed, options.CacheDirectory, options.Pretraining, data, log, cancellationToken);
        log($"Base checkpoint {checkpoint.ModelId} ({(checkpoint.LoadedFromCache ? "cached" : "trained now")}): {checkpoint.FilePath}");
        var baseModel = checkpoint.CreateModel();
        var baseAccuracy = baseModel.Evaluate(test);
        log(Invariant($"Base accuracy {baseAccuracy:P2} on {test.Count} test images"));

        // The union of all device shards: what a central (non-federated) fine-tune would see.
        var partition = DirichletPartitioner.Partition(data.Train, new DirichletPartitionOptions(
            options.DeviceCount, options.DirichletAlpha, options.Seed, options.Pretraining.PublicImages, options.Seed, options.DeviceImages));
        var deviceData = data.Train.Subset(partition.DeviceIndices.SelectMany(shard => shard).ToArray());

        var fullModel = new TinyVitModel(checkpoint.Weights.Clone());
        var fullTraining = Trainer.Train(fullModel, deviceData, FineTuneOptions(options, options.FullFineTuneLearningRate), TrainingMode.Full, cancellationToken);
        var fullAccuracy = fullModel.Evaluate(test);
        log(Invariant($"Full fine-tune on {deviceData.Count} device images: {fullAccuracy:P2}, {fullTraining.SamplesPerSecond:F0} samples/s"));

        var loraModel = new TinyVitModel(checkpoint.Weights.Clone())
        {
            Adapters = LoraAdapterSet.Create(config, options.LoraRank, options.LoraAlpha, options.Seed),
        };
        var loraTraining = Trainer.Train(loraModel, deviceData, FineTuneOptions(options, options.LoraLearningRate), TrainingMode.LoraOnly, cancellationToken);
        var loraAccuracy = loraModel.Evaluate(test);
        log(Invariant($"LoRA r={options.LoraRank} fine-tune: {loraAccuracy:P2}, {loraTraining.SamplesPerSecond:F0} samples/s"));

        var variants = VariantModel.BuildAll(checkpoint.Weights, data.Train);
        var reports = VariantAccuracy.Measure(variants, test, intraOpThreads: options.OnnxThreads);
        foreach (var report in reports)
            log(Invariant($"{report.Variant.WireName()}: {report.WholeModel:P2}, {variants[report.Variant].SerializedBytes()} bytes"));

        var agreement = OnnxFp32MaxAbsError(baseModel, variants[ModelVariant.Fp32], test);
        log(Invariant($"ONNX Runtime FP32 vs managed forward: max abs error {agreement:E2}"));
        var timing = TimeStage(baseModel, variants, test, options);
        log(Invariant($"{timing.Stage} batch {timing.Batch}: managed {timing.ManagedFp32Microseconds:F0} us, ORT FP32 {timing.OnnxFp32Microseconds:F0} us, ORT INT8 {timing.OnnxInt8Microseconds:F0} us"));

        return new ModelBenchmarkResult
        {
            Config = config,
            BaseModelId = checkpoint.ModelId,
            TestImages = test.Count,
            FineTuneImages = deviceData.Count,
            DeviceCount = options.DeviceCount,
            LoraRank = options.LoraRank,
            BaseAccuracy = baseAccuracy,
            LoraAccuracy = loraAccuracy,
            FullFineTuneAccuracy = fullAccuracy,
            LoraTrainSamplesPerSecond = loraTraining.SamplesPerSecond,
            FullTrainSamplesPerSecond = fullTraining.SamplesPerSecond,
            LoraParameters = loraModel.Adapters!.ParameterCount,
            BaseParameters = checkpoint.Weights.ParameterCount,
            Variants = reports.Select(report => new VariantResult(
                report.Variant, report.WholeModel, variants[report.Variant].SerializedBytes(), report.SwappedStages,
                ModelStage.Pipeline(config).ToDictionary(stage => stage.Name, stage => variants[report.Variant].SerializedBytes(stage)),
                variants[report.Variant].MlpSparsity)).ToList(),
            OnnxFp32MaxAbsError = agreement,
            Timing = timing,
            Elapsed = total.Elapsed,
        };
    }

    private static TrainingOptions FineTuneOptions(ModelBenchmarkOptions options, float learningRate) => new()
    {
        Epochs = options.FineTuneEpochs,
        BatchSize = options.FineTuneBatchSize,
        LearningRate = learningRate,
        Seed = options.Seed,
    };

    /// <summary>Largest |ORT − managed| over every stage and the whole model, on real test images and their activations.</summary>
    private static double OnnxFp32MaxAbsError(TinyVitModel model, VariantModel fp32, Dataset test)
    {
        const int batch = 64;
        var config = model.Config;
        var pixels = test.ScaledPixels(0, Math.Min(batch, test.Count));
        var images = pixels.Length / config.PixelsPerImage;
        var tokens = model.PatchEmbeddingForward(pixels, images);
        var worst = 0.0;
        void Compare(ModelStage stage, float[] input, float[] managed)
        {
            using var session = new OnnxStageSession(fp32.Export(stage));
            var onnx = session.Run(input, stage.InputShape(config, images));
            for (var i = 0; i < onnx.Length; i++)
                worst = Math.Max(worst, Math.Abs(onnx[i] - managed[i]));
        }
        Compare(ModelStage.Embedding, pixels, tokens);
        for (var layer = 0; layer < config.Layers; layer++)
        {
            var next = model.BlockForward(layer, tokens, images);
            Compare(ModelStage.Block(layer), tokens, next);
            tokens = next;
        }
        Compare(ModelStage.Head, tokens, model.HeadForward(tokens, images));
        Compare(ModelStage.Whole, pixels, model.Forward(pixels, images));
        return worst;
    }

    /// <summary>Median latency of one stage on the same batch: managed FP32, ORT FP32, ORT INT8, measured in one run.</summary>
    private static StageTiming TimeStage(TinyVitModel model, IReadOnlyDictionary<ModelVariant, VariantModel> variants, Dataset test, ModelBenchmarkOptions options)
    {
        var config = model.Config;
        var stage = ModelStage.Parse(options.TimedStage, config);
        var batch = options.TimedBatch;
        var pixels = new float[batch * config.PixelsPerImage];
        for (var i = 0; i < batch; i++)
            test.ScaledPixels(i % test.Count, 1).CopyTo(pixels, i * config.PixelsPerImage);
        // The stage's real input: pixels, or the FP32 activations that reach it.
        var input = pixels;
        if (!stage.TakesPixels)
        {
            input = model.PatchEmbeddingForward(pixels, batch);
            for (var layer = 0; layer < (stage.Kind == ModelStageKind.Head ? config.Layers : stage.BlockIndex); layer++)
                input = model.BlockForward(layer, input, batch);
        }
        Func<float[]> managed = stage.Kind switch
        {
            ModelStageKind.Embedding => () => model.PatchEmbeddingForward(input, batch),
            ModelStageKind.Block => () => model.BlockForward(stage.BlockIndex, input, batch),
            ModelStageKind.Head => () => model.HeadForward(input, batch),
            _ => () => model.Forward(input, batch),
        };
        var shape = stage.InputShape(config, batch);
        using var fp32 = new OnnxStageSession(variants[ModelVariant.Fp32].Export(stage), options.OnnxThreads);
        using var int8 = new OnnxStageSession(variants[ModelVariant.Int8].Export(stage), options.OnnxThreads);
        return new StageTiming(
            stage.Name, batch, options.OnnxThreads, options.TimedRepetitions,
            MedianMicroseconds(() => managed(), options.TimedRepetitions),
            MedianMicroseconds(() => fp32.Run(input, shape), options.TimedRepetitions),
            MedianMicroseconds(() => int8.Run(input, shape), options.TimedRepetitions));
    }

    private static double MedianMicroseconds(Func<float[]> run, int repetitions)
    {
        for (var i = 0; i < Math.Max(3, repetitions / 10); i++)
            run();
        var samples = new double[repetitions];
        for (var i = 0; i < repetitions; i++)
        {
            var start = Stopwatch.GetTimestamp();
            run();
            samples[i] = Stopwatch.GetElapsedTime(start).TotalMicroseconds;
        }
        Array.Sort(samples);
        return samples[repetitions / 2];
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
