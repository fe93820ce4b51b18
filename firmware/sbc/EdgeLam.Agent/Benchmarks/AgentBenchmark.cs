using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Serialization;
using EdgeLam.Agent.Inference;
using EdgeLam.Agent.Training;
using EdgeLam.Contracts.Messages;
using EdgeLam.Model.Architecture;
using EdgeLam.Model.Data;
using EdgeLam.Model.Onnx;
using EdgeLam.Model.Variants;

namespace EdgeLam.Agent.Benchmarks;

/// <summary>What <see cref="AgentBenchmark.Run"/> measures.</summary>
public sealed record AgentBenchmarkOptions
{
    /// <summary>Agent options that pick the model, base checkpoint, data and default shard.</summary>
    public AgentOptions Agent { get; init; } = new();

    /// <summary>Timed single-image runs per stage variant (after two warm-ups); the median is reported.</summary>
    public int LatencyRuns { get; init; } = 50;

    /// <summary>LoRA rank of the training measurement.</summary>
    public int LoraRank { get; init; } = 8;

    /// <summary>Optimizer steps of the training measurement.</summary>
    public int LoraSteps { get; init; } = 40;

    /// <summary>Examples per step of the training measurement.</summary>
    public int LoraBatchSize { get; init; } = 32;

    /// <summary>ONNX Runtime intra-op threads per session.</summary>
    public int Threads { get; init; } = 1;

    /// <summary>
    /// "cpu", or "cuda": every stage variant also runs on ONNX Runtime's CUDA provider, timed and compared with the CPU's
    /// output on the same input. Needs the CUDA build of the agent (-p:OnnxRuntimeFlavor=Cuda) and an NVIDIA GPU.
    /// </summary>
    public string ExecutionProvider { get; init; } = "cpu";
}

/// <summary>Median latency of one stage variant in ONNX Runtime on this machine.</summary>
/// <param name="Stage">Stage id (embed, block0.., head).</param>
/// <param name="Variant">fp32, fp16, int8 or pruned_int8.</param>
/// <param name="ModelBytes">Size of the ONNX file.</param>
/// <param name="MedianMilliseconds">Median single-image latency.</param>
/// <param name="SpeedupOverFp32">FP32 latency of the stage divided by this variant's.</param>
/// <param name="ExecutionProvider">cpu or cuda.</param>
public sealed record StageVariantLatency(string Stage, string Variant, int ModelBytes, double MedianMilliseconds, double SpeedupOverFp32, string ExecutionProvider)
{
    /// <summary>With the CUDA provider: the CPU provider's median on the same machine, the baseline of the same run.</summary>
    public double? CpuMedianMilliseconds { get; init; }

    /// <summary>With the CUDA provider: the largest absolute difference between its output and the CPU provider's.</summary>
    public double? MaxAbsoluteDifferenceFromCpu { get; init; }
}

/// <summary>Result of <c>edgelam bench agent</c>: measured on this machine, nothing modelled.</summary>
public sealed record AgentBenchmarkResult
{
    /// <summary>Model configuration ("default" or "tiny").</summary>
    public required string ModelSize { get; init; }

    /// <summary>Base checkpoint id.</summary>
    public required string BaseModelId { get; init; }

    /// <summary>Per stage and variant.</summary>
    public required IReadOnlyList<StageVariantLatency> Latencies { get; init; }

    /// <summary>LoRA rank of the training measurement.</summary>
    public required int LoraRank { get; init; }

    /// <summary>Training examples per second of LoRA-only training (frozen base) on the default shard.</summary>
    public required double LoraTrainingSamplesPerSecond { get; init; }

    /// <summary>Loss of the first and the mean of the last training steps, to show the measurement trained something.</summary>
    public required double LoraInitialLoss { get; init; }

    /// <summary>Mean loss over the last steps.</summary>
    public required double LoraFinalLoss { get; init; }

    /// <summary>Processor count of this machine.</summary>
    public required int ProcessorCount { get; init; }

    /// <summary>The provider asked for ("cpu" or "cuda").</summary>
    public required string RequestedExecutionProvider { get; init; }

    /// <summary>Why the CUDA provider could not be used when it was asked for; null when it ran.</summary>
    public string? CudaUnavailableReason { get; init; }

    /// <summary>Indented JSON with camelCase names.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, JsonOptions);

    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };
}

/// <summary>
/// The agent benchmark (<c>edgelam bench agent [--json]</c>): every stage of the base checkpoint in its four variants
/// run in ONNX Runtime exactly as a deployed variant runs, and the LoRA training rate of a local round.
/// </summary>
public static class AgentBenchmark
{
    /// <summary>Runs the benchmark; <paramref name="log"/> receives progress lines.</summary>
    public static async Task<AgentBenchmarkResult> RunAsync(AgentBenchmarkOptions options, Action<string>? log = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        AgentOptions agent = options.Agent;
        bool cuda = options.ExecutionProvider switch
        {
            "cpu" => false,
            "cuda" => true,
            _ => throw new ArgumentException($"Execution provider '{options.ExecutionProvider}' is unknown; use cpu or cuda.", nameof(options)),
        };
        AgentData data = AgentData.For(agent);
        BaseModel baseModel = CheckpointBaseModelSource.For(agent, data).Get(cancellationToken);
        TinyVitConfig config = baseModel.Weights.Config;
        log?.Invoke($"Building fp32, fp16, int8 and pruned_int8 variants of {baseModel.Id}");
        IReadOnlyDictionary<ModelVariant, VariantModel> variants = VariantModel.BuildAll(baseModel.Weights, data.Load().Train);

        string? cudaUnavailable = null;
        var latencies = new List<StageVariantLatency>();
        foreach (ModelStage stage in ModelStage.Pipeline(config))
        {
            double fp32 = double.NaN;
            foreach (ModelVariant variant in ModelVariants.All)
            {
                cancellationToken.ThrowIfCancellationRequested();
                byte[] model = variants[variant].Export(stage);
                using VariantSession cpuSession = VariantSession.Load(model, options.Threads, tryCuda: false, out _);
                double cpuMedian = cpuSession.CalibrateMilliseconds(options.LatencyRuns);
                StageVariantLatency latency;
                if (cuda && cudaUnavailable is null)
                {
                    using VariantSession cudaSession = VariantSession.Load(model, options.Threads, tryCuda: true, out cudaUnavailable);
                    double median = cudaSession.CalibrateMilliseconds(options.LatencyRuns);
                    if (variant == ModelVariant.Fp32) fp32 = median;
                    latency = new StageVariantLatency(stage.Name, variant.WireName(), model.Length, median, fp32 / median, cudaSession.ExecutionProvider)
                    {
                        CpuMedianMilliseconds = cpuMedian,
                        MaxAbsoluteDifferenceFromCpu = MaxAbsoluteDifference(cpuSession, cudaSession),
                    };
                }
                else
                {
                    if (variant == ModelVariant.Fp32) fp32 = cpuMedian;
                    latency = new StageVariantLatency(stage.Name, variant.WireName(), model.Length, cpuMedian, fp32 / cpuMedian, cpuSession.ExecutionProvider);
                }

                latencies.Add(latency);
                string comparison = latency.CpuMedianMilliseconds is double cpuMs
                    ? FormattableString.Invariant($"  cpu {cpuMs:F4} ms ({cpuMs / latency.MedianMilliseconds:F2}x), max |cuda-cpu| {latency.MaxAbsoluteDifferenceFromCpu:E2}")
                    : string.Empty;
                log?.Invoke(FormattableString.Invariant($"{stage.Name,-7} {variant.WireName(),-12} {latency.ExecutionProvider,-4} {latency.MedianMilliseconds,8:F4} ms  ({latency.SpeedupOverFp32:F2}x fp32){comparison}"));
            }
        }

        if (cudaUnavailable is not null)
            log?.Invoke($"CUDA provider unavailable, measured on the CPU: {cudaUnavailable}");

        var assignment = new TrainingAssignment
        {
            Round = 1,
            Rank = options.LoraRank,
            Layers = Enumerable.Range(0, config.Layers).ToArray(),
            Precision = Precision.Fp16,
            LocalSteps = options.LoraSteps,
            BatchSize = options.LoraBatchSize,
            LearningRate = 0.01,
            DeadlineUnixMilliseconds = long.MaxValue,
            PartitionSeed = agent.ShardSeed,
            PartitionIndex = agent.ShardIndex,
            PartitionCount = agent.ShardCount,
            DirichletAlpha = agent.ShardAlpha,
        };
        Dataset shard = data.Shard(agent.ShardSeed, agent.ShardAlpha, agent.ShardIndex, agent.ShardCount);
        long start = Stopwatch.GetTimestamp();
        LoraRoundResult round = await LoraTrainingJob.RunAsync(assignment, baseModel, shard, null, agent.LoraAlpha, null, agent.BaseModelSeed, cancellationToken).ConfigureAwait(false);
        double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        double samplesPerSecond = round.Update.Header.SampleCount / round.ComputeTime.TotalSeconds;
        log?.Invoke($"LoRA rank {options.LoraRank}: {samplesPerSecond:F0} samples/s ({round.Update.Header.SampleCount} samples, {seconds:F2} s with packaging)");

        return new AgentBenchmarkResult
        {
            ModelSize = agent.ModelSize,
            BaseModelId = baseModel.Id,
            Latencies = latencies,
            LoraRank = options.LoraRank,
            LoraTrainingSamplesPerSecond = samplesPerSecond,
            LoraInitialLoss = round.InitialLoss,
            LoraFinalLoss = round.Update.Header.TrainingLoss,
            ProcessorCount = Environment.ProcessorCount,
            RequestedExecutionProvider = options.ExecutionProvider,
            CudaUnavailableReason = cudaUnavailable,
        };
    }

    /// <summary>The largest absolute difference between two sessions' outputs on one fixed single-image input.</summary>
    private static double MaxAbsoluteDifference(VariantSession reference, VariantSession candidate)
    {
        long[] shape = reference.InputShape(1);
        var input = new float[reference.InputElementsPerImage];
        for (int i = 0; i < input.Length; i++)
            input[i] = (float)Math.Cos(i * 0.11);
        float[] expected = reference.Run(input, shape).Output;
        float[] actual = candidate.Run(input, shape).Output;
        if (expected.Length != actual.Length)
            throw new InvalidDataException($"The {candidate.ExecutionProvider} provider returned {actual.Length} values; the CPU returned {expected.Length}.");
        double max = 0;
        for (int i = 0; i < expected.Length; i++)
            max = Math.Max(max, Math.Abs(expected[i] - actual[i]));
        return max;
    }
}
