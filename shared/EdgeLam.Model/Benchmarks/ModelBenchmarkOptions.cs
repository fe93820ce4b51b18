using EdgeLam.Model.Architecture;
using EdgeLam.Model.Checkpoints;
using EdgeLam.Model.Onnx;

namespace EdgeLam.Model.Benchmarks;

/// <summary>Settings of <see cref="ModelBenchmark"/>; the defaults run in a few minutes on two cores.</summary>
public sealed record ModelBenchmarkOptions
{
    public TinyVitConfig Config { get; init; } = new();
    /// <summary>Seed of the base checkpoint, the device split and the fine-tuning runs.</summary>
    public int Seed { get; init; } = 1;
    /// <summary>Folder of the cached base checkpoint.</summary>
    public string CacheDirectory { get; init; } = Path.Combine(".edgelam", "cache");
    public PretrainingBudget Pretraining { get; init; } = PretrainingBudget.Default;
    /// <summary>Fashion-MNIST folder (null: the Debian package's).</summary>
    public string? DataDirectory { get; init; }

    /// <summary>Devices whose Dirichlet shards together form the fine-tuning set.</summary>
    public int DeviceCount { get; init; } = 8;
    public double DirichletAlpha { get; init; } = 0.5;
    /// <summary>Images split among the devices (taken after the public pretraining slice).</summary>
    public int DeviceImages { get; init; } = 12000;
    public int FineTuneEpochs { get; init; } = 1;
    public int FineTuneBatchSize { get; init; } = 64;
    public float FullFineTuneLearningRate { get; init; } = 1e-3f;
    public float LoraLearningRate { get; init; } = 3e-3f;
    /// <summary>LoRA rank of the central reference run (the M-tier rank).</summary>
    public int LoraRank { get; init; } = 8;
    public float LoraAlpha { get; init; } = 16f;

    /// <summary>Test images for every accuracy (null: the whole official test set of 10 000).</summary>
    public int? TestImages { get; init; }
    /// <summary>Stage whose forward latency is compared between managed code and ONNX Runtime.</summary>
    public string TimedStage { get; init; } = "block0";
    public int TimedBatch { get; init; } = 64;
    public int TimedRepetitions { get; init; } = 50;
    /// <summary>Threads for ONNX Runtime; the managed forward uses the thread pool (all cores), so match it.</summary>
    public int OnnxThreads { get; init; } = Environment.ProcessorCount;

    public void Validate()
    {
        Config.Validate();
        Pretraining.Validate();
        if (DeviceCount <= 0 || DeviceImages < DeviceCount || FineTuneEpochs <= 0 || FineTuneBatchSize <= 0 || LoraRank <= 0)
            throw new ArgumentException("DeviceCount, DeviceImages (at least one per device), FineTuneEpochs, FineTuneBatchSize and LoraRank must be positive.");
        if (!(DirichletAlpha > 0))
            throw new ArgumentOutOfRangeException(nameof(DirichletAlpha), DirichletAlpha, "The Dirichlet concentration must be positive.");
        if (TestImages is <= 0)
            throw new ArgumentOutOfRangeException(nameof(TestImages), TestImages, "Test images must be positive.");
        if (TimedBatch <= 0 || TimedRepetitions <= 0 || OnnxThreads <= 0)
            throw new ArgumentException("TimedBatch, TimedRepetitions and OnnxThreads must be positive.");
        ModelStage.Parse(TimedStage, Config);
    }
}
