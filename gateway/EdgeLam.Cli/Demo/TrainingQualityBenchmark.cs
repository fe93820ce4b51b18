using System.Globalization;
using EdgeLam.Boards;
using EdgeLam.Contracts.Messages;
using EdgeLam.Firmware.Emulator.Hosting;
using EdgeLam.Firmware.Training;
using EdgeLam.Gateway.Training;
using EdgeLam.Gateway.Training.Aggregation;
using EdgeLam.Gateway.Training.Strategies;
using EdgeLam.Gateway.Unlearning.Verification;
using EdgeLam.Model.Architecture;
using EdgeLam.Model.Checkpoints;
using EdgeLam.Model.Data;
using EdgeLam.Model.Training;

namespace EdgeLam.Cli.Demo;

/// <summary>What the in-process training-quality run varies: the base's pretraining, the round settings, the split and the adapted projections.</summary>
public sealed record TrainingQualitySettings
{
    public PretrainingBudget Budget { get; init; } = PretrainingBudget.Default;
    public int Rounds { get; init; } = 6;
    public int LocalSteps { get; init; } = 25;
    public int BatchSize { get; init; } = 32;
    public double LearningRate { get; init; } = 1e-3;
    public double DirichletAlpha { get; init; } = 0.5;
    /// <summary>As Training:AdaptedProjections; empty adapts all six projections of every block.</summary>
    public IReadOnlyList<string> AdaptedProjections { get; init; } = new DemoSettings().AdaptedProjections;

    /// <summary>As Training:AdaptedProjectionsByTier: the projections a tier ("L", "M", "H") trains instead; the demo's by default.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<string>> AdaptedProjectionsByTier { get; init; } = new DemoSettings().AdaptedProjectionsByTier;

    /// <summary>The projection settings as the gateway reads them from its configuration.</summary>
    public EdgeLam.Gateway.Training.Rounds.TrainingOptions ProjectionOptions() => new()
    {
        AdaptedProjections = [.. AdaptedProjections],
        AdaptedProjectionsByTier = AdaptedProjectionsByTier.ToDictionary(e => e.Key, e => e.Value.ToList(), StringComparer.Ordinal),
    };
    public IReadOnlyList<string> Strategies { get; init; } = TrainingExperiment.Strategies.Select(s => s.Name).ToArray();
    public int EvaluationImages { get; init; } = 2000;

    /// <summary>
    /// Merge and restart (Wang et al. 2024, FLoRA) for the strategies whose global is the previous one plus the mean of
    /// the devices' changes (fedft_h): every round each device merges the whole global into its copy of the base and
    /// trains new adapters on it (A random, B zero), so its upload is its change, and the global grows by their mean.
    /// </summary>
    public bool FreshAdapters { get; init; }
}

/// <summary>
/// The demo's training experiment without MQTT, to compare recipes in about a minute per strategy: the demo fleet's
/// devices on the gateway's Dirichlet shards, the agents' LoRA or full trainer (AdamW) on the Pi/Jetson shards with
/// FP16 uploads, the firmware's own <see cref="LoraProjectionTrainer"/> (SGD with momentum, INT8 both ways) on the
/// ESP32 shards as the emulator holds them, and the gateway's strategies aggregating. Uplink counts factor bytes only.
/// </summary>
public static class TrainingQualityBenchmark
{
    private const int PartitionSeed = 42;
    private const int EmulatorShardImages = 256;

    public static IReadOnlyList<StrategyRun> Run(string boardsDirectory, FleetSpec spec, TrainingQualitySettings settings, DemoSettings demo, Action<string> log)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(demo);
        ArgumentNullException.ThrowIfNull(log);
        var data = FashionMnist.Load();
        var checkpoint = BaseCheckpoint.LoadOrTrain(new TinyVitConfig(), demo.Seed, demo.CheckpointDirectory, settings.Budget, data, log);
        var weights = checkpoint.Weights;
        var test = data.Test.Take(settings.EvaluationImages);
        log(string.Create(CultureInfo.InvariantCulture, $"Base {checkpoint.ModelId}: {new TinyVitModel(weights).Evaluate(test) * 100:0.00}% on {test.Count} test images"));
        var shardCount = spec.Devices.Max(d => d.Shard) + 1;
        var partition = DirichletPartitioner.Partition(data.Train, new DirichletPartitionOptions(
            shardCount, settings.DirichletAlpha, PartitionSeed, settings.Budget.PublicImages, demo.Seed));
        var devices = spec.Devices.Select(d => FleetDevice.Create(BoardProfileLoader.Load(FleetSpec.BoardPath(boardsDirectory, d)), d, data.Train,
            partition.DeviceIndices[d.Shard], weights)).ToArray();
        var projections = settings.ProjectionOptions();
        if (projections.AdaptedProjectionsError(weights.Config) is { } error)
            throw new ArgumentException(error, nameof(settings));
        var layout = AdapterLayout.ForTinyVit(weights.Config, projections.AdaptedProjections, projections.SelectionByTier());
        var hyper = new TrainingHyperparameters(settings.LocalSteps, settings.LearningRate, settings.BatchSize, 16f, demo.Seed);
        var runs = new List<StrategyRun>();
        foreach (var name in settings.Strategies)
        {
            var strategy = StrategyCatalog.Create(name);
            var fresh = settings.FreshAdapters && strategy.AggregatesChangesFromStart;
            if (fresh)
                log($"{name}: devices merge the global into their base and train fresh adapters every round");
            var global = GlobalModelState.Initial;
            var rounds = new List<RoundMeasurement>();
            var watch = System.Diagnostics.Stopwatch.StartNew();
            for (var round = 1; round <= settings.Rounds; round++)
            {
                var context = new RoundContext(round, global, layout, hyper);
                var plan = strategy.ConfigureTrain(context, devices.Select(d => d.Member).ToArray());
                var replies = new TrainingReply[plan.Count];
                if (fresh)
                {
                    var merged = weights.Clone();
                    AdapterMerging.MergeInto(merged, global.Parameters.Adapters);
                    Parallel.For(0, plan.Count, k => replies[k] = devices.Single(d => d.Member.DeviceId == plan[k].DeviceId)
                        .TrainFresh(WithFreshStart(plan[k], layout, hyper.Seed, round), merged, round));
                    // With no previous global the strategy's aggregate is exactly the weighted mean of the uploaded changes.
                    var meanChange = strategy.AggregateTrain(context with { Global = GlobalModelState.Initial }, replies, []).Global;
                    global = WithChangesAdded(global, meanChange);
                }
                else
                {
                    Parallel.For(0, plan.Count, k => replies[k] = devices.Single(d => d.Member.DeviceId == plan[k].DeviceId).Train(plan[k], weights, round));
                    global = strategy.AggregateTrain(context, replies, []).Global;
                }
                var accuracy = TrainingExperiment.Evaluate(weights, global, test);
                rounds.Add(new RoundMeasurement(round, accuracy, replies.Length, 0, replies.Sum(r => r.UplinkBytes), 0, 0, []));
                log(string.Create(CultureInfo.InvariantCulture, $"{name} round {round}: {accuracy * 100:0.00}%{AdapterNorm(global)}"));
            }
            runs.Add(new StrategyRun(name, rounds, rounds[^1].Accuracy, rounds.Sum(r => r.UplinkBytes), 0, watch.Elapsed.TotalSeconds));
        }
        return runs;
    }

    /// <summary>", ‖ΔW‖_F x" of the global adapters (the root of the sum over projections of their squared Frobenius norms); empty without adapters.</summary>
    private static string AdapterNorm(GlobalModelState global) => global.Parameters.Adapters.Count == 0 ? ""
        : string.Create(CultureInfo.InvariantCulture, $", ‖ΔW‖_F {Math.Sqrt(global.Parameters.Adapters.Values.Sum(f => Math.Pow(LowRankNorm.Frobenius(f), 2))):0.000}");

    /// <summary>
    /// The instruction with fresh adapters (A random, B zero) for the projections it assigns, drawn as the strategy draws
    /// the first round's, so the first round is the same with and without <see cref="TrainingQualitySettings.FreshAdapters"/>.
    /// </summary>
    private static TrainingInstruction WithFreshStart(TrainingInstruction instruction, AdapterLayout layout, int seed, int round)
    {
        var start = instruction.StartFrom.Adapters.Keys.ToDictionary(
            name => name,
            name => AdapterInitialization.Fresh(layout.Projections.Single(p => p.Name == name), instruction.Rank, instruction.LoraAlpha / instruction.Rank,
                DeterministicRandom.For(seed, round, instruction.DeviceId, name)),
            StringComparer.Ordinal);
        return instruction with { StartFrom = ModelParameters.FromAdapters(start) };
    }

    /// <summary>The previous global plus the round's mean change, projection by projection, as an exact product.</summary>
    private static GlobalModelState WithChangesAdded(GlobalModelState previous, GlobalModelState meanChange)
    {
        var adapters = new Dictionary<string, LoraFactors>(previous.Parameters.Adapters, StringComparer.Ordinal);
        foreach (var (name, change) in meanChange.Parameters.Adapters)
            adapters[name] = adapters.TryGetValue(name, out var before)
                ? RankRefactorization.ToExactProduct(ProductAggregation.StackedDecomposition([LowRankTerm.FromFactors(before, 1.0), LowRankTerm.FromFactors(change, 1.0)]))
                : change;
        return new GlobalModelState(previous.AggregatedRounds + 1, ModelParameters.FromAdapters(adapters));
    }

    /// <summary>One device of the fleet: how the gateway sees it, its shard, and the trainer its software runs.</summary>
    private sealed record FleetDevice(FleetMember Member, Dataset Shard, FrozenActivationShard? FirmwareShard, FrozenHead? Head, int Index)
    {
        public static FleetDevice Create(BoardProfile board, FleetSpecDevice device, Dataset train, int[] indices, TinyVitWeights weights)
        {
            var rank = board.Adaptation.MaxLoraRank.Value;
            if (board.Runtime != BoardRuntime.NanoFramework)
            {
                var shard = train.Subset(indices);
                var tier = rank >= 16 ? DeviceTier.H : DeviceTier.M;
                return new(new FleetMember(device.Id, tier, rank, [Precision.Fp32, Precision.Fp16, Precision.Int8], null, shard.Count), shard, null, null, device.Shard);
            }
            // The firmware trains fc2 of the last block on the frozen activations of the first images of its shard.
            var held = train.Subset(indices.Take(EmulatorShardImages).ToArray());
            var head = new FrozenHead(weights.Config.ModelDim, weights.Config.Classes, weights.FinalNorm.Gamma, weights.FinalNorm.Beta, weights.Head.W, weights.Head.B);
            var member = new FleetMember(device.Id, DeviceTier.L, rank, [Precision.Int8], [weights.Config.Layers - 1], held.Count);
            return new(member, held, FrozenActivationShard.Compute(weights, held), head, device.Shard);
        }

        public TrainingReply Train(TrainingInstruction instruction, TinyVitWeights weights, int round)
        {
            if (FirmwareShard is not null)
                return TrainFirmware(instruction, weights.Config, FirmwareShard, PartitionSeed + Index, continues: round > 1);
            if (!instruction.TrainsFullModel)
                return TrainLora(instruction, weights, round);
            var seed = (1000 * round) + Index;
            var local = weights.Clone();
            foreach (var (name, _, values) in local.Tensors())
                if (instruction.StartFrom.FullWeights.TryGetValue(name, out var start)) start.CopyTo(values, 0);
            var options = TrainingOptions.ForLocalRound(instruction.LocalSteps, instruction.BatchSize, instruction.LearningRate, Shard.Count, seed);
            var result = Trainer.Train(new TinyVitModel(local), Shard, options, TrainingMode.Full);
            var trained = ModelParameters.FromFullWeights(local.Tensors().ToDictionary(t => t.Name, t => (float[])t.Values.Clone(), StringComparer.Ordinal));
            return new TrainingReply(Member.DeviceId, (int)result.Samples, trained, 4 * trained.ParameterCount);
        }

        /// <summary>
        /// The round of a device that merged the global into <paramref name="merged"/> (the base plus the global) and trains the
        /// instruction's fresh adapters on it: the agents' trainer as usual; the firmware's trainer on the activations the merged
        /// model produces, from a new seeded A and a zero B. Either way the upload is the device's change.
        /// </summary>
        public TrainingReply TrainFresh(TrainingInstruction instruction, TinyVitWeights merged, int round)
        {
            if (FirmwareShard is null)
                return TrainLora(instruction, merged, round);
            return TrainFirmware(instruction, merged.Config, FrozenActivationShard.Compute(merged, Shard), PartitionSeed + Index + (1000 * (round - 1)), continues: false);
        }

        /// <summary>The agents' LoRA round (AdamW) from the instruction's start adapters, FP16 upload.</summary>
        private TrainingReply TrainLora(TrainingInstruction instruction, TinyVitWeights weights, int round)
        {
            var reply = LocalLoraTraining.Train(weights, Shard, instruction, (1000 * round) + Index);
            var uploaded = reply.Trained.Adapters.ToDictionary(e => e.Key, e => e.Value with { A = Half16(e.Value.A), B = Half16(e.Value.B) }, StringComparer.Ordinal);
            return reply with { Trained = ModelParameters.FromAdapters(uploaded), UplinkBytes = 2 * reply.Trained.ParameterCount };
        }

        /// <summary>
        /// The firmware's round (DeviceApplication.Train): from its own seeded A and zero B, or continuing from the INT8 start
        /// adapter, SGD with momentum 0.9 over the held shard in order, INT8 upload.
        /// </summary>
        private TrainingReply TrainFirmware(TrainingInstruction instruction, TinyVitConfig config, FrozenActivationShard shard, int seed, bool continues)
        {
            var layer = config.Layers - 1;
            var name = ProjectionNames.Of(layer, "fc2");
            var trainer = new LoraProjectionTrainer(layer, "fc2", config.MlpDim, config.ModelDim, config.Tokens, instruction.Rank, instruction.LoraAlpha, Head!, seed);
            if (continues && instruction.StartFrom.Adapters.TryGetValue(name, out var start))
            {
                LoraFactorQuantizer.Dequantize(LoraFactorQuantizer.ToInt8Frame(start.A, instruction.Rank, config.MlpDim), trainer.A);
                LoraFactorQuantizer.Dequantize(LoraFactorQuantizer.ToInt8Frame(start.B, config.ModelDim, instruction.Rank), trainer.B);
            }
            var batch = new int[Math.Min(instruction.BatchSize, shard.Count)];
            var cursor = 0;
            for (var step = 0; step < instruction.LocalSteps; step++)
            {
                for (var i = 0; i < batch.Length; i++)
                {
                    batch[i] = cursor;
                    cursor = (cursor + 1) % shard.Count;
                }
                trainer.Step(shard, batch, (float)instruction.LearningRate, 0.9f);
            }
            var a = new float[trainer.A.Length];
            var b = new float[trainer.B.Length];
            LoraFactorQuantizer.Dequantize(LoraFactorQuantizer.ToInt8Frame(trainer.A, instruction.Rank, config.MlpDim), a);
            LoraFactorQuantizer.Dequantize(LoraFactorQuantizer.ToInt8Frame(trainer.B, config.ModelDim, instruction.Rank), b);
            var factors = new LoraFactors(instruction.Rank, config.MlpDim, config.ModelDim, a, b, instruction.LoraAlpha / instruction.Rank);
            return new TrainingReply(Member.DeviceId, batch.Length * instruction.LocalSteps,
                ModelParameters.FromAdapters(new Dictionary<string, LoraFactors>(StringComparer.Ordinal) { [name] = factors }), a.Length + b.Length);
        }

        private static float[] Half16(float[] values) => values.Select(v => (float)(Half)v).ToArray();
    }
}
