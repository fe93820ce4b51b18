using System.Diagnostics;
using System.Text.Json;
using EdgeLam.Contracts.Messages;
using EdgeLam.Gateway.Persistence;
using EdgeLam.Gateway.Training;
using EdgeLam.Gateway.Training.Rounds;
using EdgeLam.Gateway.Training.Strategies;
using EdgeLam.Gateway.Unlearning.Methods;
using EdgeLam.Model.Architecture;
using EdgeLam.Model.Data;

namespace EdgeLam.Gateway.Unlearning.Verification;

/// <summary>
/// Verifies unlearning end to end, in-process: a fleet trains LoRA adapters on its Dirichlet shards with the
/// model core's trainer, one member plants a backdoor, the gateway's strategy aggregates and every contribution
/// is stored in a <see cref="GatewayStore"/>; then each unlearning method removes the attacker and is measured
/// against a federation retrained from scratch without it. Every number is measured on the real test set.
/// </summary>
public static class FederatedSimulation
{
    public static async Task<FederatedSimulationResult> RunAsync(
        TinyVitWeights baseWeights, FashionMnistData data, FederatedSimulationOptions options, IFederatedStrategy? strategy = null,
        Action<string>? log = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(baseWeights);
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        strategy ??= new FedFtHStrategy();
        var federation = Federation.Create(baseWeights, data.Train, options);
        var forgotten = federation.DeviceIds[options.ForgottenDeviceIndex];
        var test = options.TestImages is { } count ? data.Test.Take(count) : data.Test;
        var evaluation = new Evaluation(baseWeights, test, options.Trigger.AttackSet(test), federation.Shards[forgotten]);

        var databasePath = options.DatabasePath ?? Path.Combine(Path.GetTempPath(), $"edgelam-unlearning-{Guid.NewGuid():N}.db");
        try
        {
            using var store = new GatewayStore(databasePath);
            log?.Invoke($"Training {options.Rounds} rounds of {strategy.Name} with {federation.DeviceIds.Count} devices; {forgotten} plants a backdoor in {federation.PoisonedImages} images");
            var watch = StartTimed();
            var original = federation.Train(strategy, federation.DeviceIds, 1, options.Rounds, GlobalModelState.Initial, store, cancellationToken);
            var trainingSeconds = watch.Elapsed.TotalSeconds;

            log?.Invoke($"Retraining from scratch without {forgotten}");
            var remaining = federation.DeviceIds.Where(id => id != forgotten).ToArray();
            Restart(watch);
            var retrained = federation.Train(strategy, remaining, 1, options.Rounds, GlobalModelState.Initial, null, cancellationToken);
            var retrainingSeconds = watch.Elapsed.TotalSeconds;

            var layout = federation.Layout;
            var hyper = federation.Hyperparameters;
            var methods = new List<UnlearningMethodResult>();

            // The gateway decodes stored rounds once and keeps them (ContributionHistory); that load is timed on its own.
            var history = new ContributionHistory();
            Restart(watch);
            history.Refresh(store);
            var historyLoadSeconds = watch.Elapsed.TotalSeconds;

            // Every method is timed the same way: from a refresh of the kept history to the unlearned global state; evaluation is
            // not timed. Retraining runs on code the original training has compiled already, so each device-free method (they
            // change nothing) runs once untimed first, and its timed run is compiled code too.
            methods.Add(TimeDeviceFree(UnlearningMethodNames.Subtract, () => ContributionSubtraction.Subtract(original, history.Refresh(store), forgotten)));
            methods.Add(TimeDeviceFree(UnlearningMethodNames.ExactRecompute, () => history.Recompute(store, forgotten, _ => strategy, layout, hyper)));
            methods.Add(TimeDeviceFree(UnlearningMethodNames.Orthogonal, () => history.RecomputeWithoutReactions(store, forgotten, _ => strategy, layout, hyper)));

            UnlearningMethodResult TimeDeviceFree(string method, Func<GlobalModelState> unlearn)
            {
                log?.Invoke($"Unlearning: {method}");
                unlearn();
                Restart(watch);
                var unlearned = unlearn();
                var seconds = watch.Elapsed.TotalSeconds;
                return evaluation.Measure(method, unlearned, retrained, seconds);
            }

            log?.Invoke($"Unlearning: calibrated ({options.CalibrationRounds} rounds)");
            Restart(watch);
            var replayed = history.Recompute(store, forgotten, _ => strategy, layout, hyper);
            var calibrated = await CalibratedRecompute.RunAsync(replayed, options.CalibrationRounds, (global, index, token) =>
            {
                var round = options.Rounds + 1 + index;
                return Task.Run(() => federation.Train(strategy, remaining, round, round, global, null, token), token);
            }, cancellationToken).ConfigureAwait(false);
            methods.Add(evaluation.Measure(UnlearningMethodNames.Calibrated, calibrated, retrained, watch.Elapsed.TotalSeconds));

            return new FederatedSimulationResult(
                strategy.Name, forgotten, federation.DeviceIds, federation.DeviceIds.Select(id => federation.Shards[id].Count).ToArray(),
                federation.PoisonedImages, options.Rounds, options.CalibrationRounds, historyLoadSeconds,
                evaluation.Measure("base", GlobalModelState.Initial, retrained, 0),
                evaluation.Measure("original", original, retrained, trainingSeconds),
                evaluation.Measure("retrained", retrained, retrained, retrainingSeconds),
                methods);
        }
        finally
        {
            if (options.DatabasePath is null)
                DeleteDatabase(databasePath);
        }
    }

    /// <summary>
    /// Restarts <paramref name="watch"/> after a full collection, so no timed section pays for the garbage an earlier
    /// one left (training allocates much more than an unlearning method does).
    /// </summary>
    private static void Restart(Stopwatch watch)
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        watch.Restart();
    }

    private static Stopwatch StartTimed()
    {
        var watch = new Stopwatch();
        Restart(watch);
        return watch;
    }

    private static void DeleteDatabase(string path)
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        foreach (var file in new[] { path, path + "-wal", path + "-shm" })
        {
            try { File.Delete(file); }
            catch (IOException) { }
        }
    }

    /// <summary>The fleet: device ids, shards (the attacker's poisoned), members as the strategy sees them.</summary>
    internal sealed class Federation
    {
        private Federation(TinyVitWeights baseWeights, FederatedSimulationOptions options)
        {
            BaseWeights = baseWeights;
            Options = options;
            Layout = AdapterLayout.ForTinyVit(baseWeights.Config);
            Hyperparameters = new TrainingHyperparameters(options.LocalSteps, options.LearningRate, options.BatchSize, options.LoraAlpha, options.Seed);
        }

        public TinyVitWeights BaseWeights { get; }
        public FederatedSimulationOptions Options { get; }
        public AdapterLayout Layout { get; }
        public TrainingHyperparameters Hyperparameters { get; }
        public IReadOnlyList<string> DeviceIds { get; private set; } = [];
        public Dictionary<string, Dataset> Shards { get; } = new(StringComparer.Ordinal);
        public Dictionary<string, FleetMember> Members { get; } = new(StringComparer.Ordinal);
        public int PoisonedImages { get; private set; }

        public static Federation Create(TinyVitWeights baseWeights, Dataset train, FederatedSimulationOptions options)
        {
            var federation = new Federation(baseWeights, options);
            var devices = options.DeviceRanks.Count;
            var partition = DirichletPartitioner.Partition(train, new DirichletPartitionOptions(
                devices, options.DirichletAlpha, options.Seed, options.PublicImages, options.PublicSeed,
                DevicePoolCount: devices * options.ImagesPerDevice, MinimumPerDevice: Math.Min(options.BatchSize, options.ImagesPerDevice)));
            var ids = new List<string>(devices);
            for (var i = 0; i < devices; i++)
            {
                var id = i == options.ForgottenDeviceIndex ? $"attacker-{i:00}" : $"device-{i:00}";
                ids.Add(id);
                var shard = train.Subset(partition.DeviceIndices[i]);
                if (i == options.ForgottenDeviceIndex)
                {
                    // The shard is already in seeded random order, so its first images are a random sample.
                    federation.PoisonedImages = (int)Math.Round(options.PoisonFraction * shard.Count);
                    shard = options.Trigger.Poison(shard, Enumerable.Range(0, federation.PoisonedImages));
                }
                federation.Shards[id] = shard;
                var rank = options.DeviceRanks[i];
                var (tier, precision) = rank >= 16 ? (DeviceTier.H, Precision.Fp16) : rank >= 8 ? (DeviceTier.M, Precision.Fp16) : (DeviceTier.L, Precision.Int8);
                federation.Members[id] = new FleetMember(id, tier, rank, [precision], null, shard.Count);
            }
            federation.DeviceIds = ids;
            return federation;
        }

        /// <summary>Rounds [first, last] with the given devices from <paramref name="global"/>; stores every round when a store is given.</summary>
        public GlobalModelState Train(IFederatedStrategy strategy, IReadOnlyList<string> deviceIds, int first, int last, GlobalModelState global,
            GatewayStore? store, CancellationToken cancellationToken)
        {
            var members = deviceIds.Select(id => Members[id]).ToArray();
            for (var round = first; round <= last; round++)
            {
                var context = new RoundContext(round, global, Layout, Hyperparameters);
                var instructions = strategy.ConfigureTrain(context, members);
                var replies = new TrainingReply[instructions.Count];
                var seeds = instructions.Select(i => TrainerSeed(round, i.DeviceId)).ToArray();
                Parallel.For(0, instructions.Count, new ParallelOptions { CancellationToken = cancellationToken }, k =>
                    replies[k] = LocalLoraTraining.Train(BaseWeights, Shards[instructions[k].DeviceId], instructions[k], seeds[k], cancellationToken));
                var result = strategy.AggregateTrain(context, replies, []);
                if (result.Outcome != AggregationOutcome.Aggregated)
                    throw new InvalidOperationException($"Round {round} did not aggregate: {result.Summary}");
                global = result.Global;
                if (store is not null)
                {
                    // Stored as the coordinator stores them: the plan (each device's start) when the round opens, then the round.
                    var now = DateTimeOffset.UtcNow;
                    store.StartRound(new RoundPlanRecord(round, strategy.Name, now, ModelParametersCodec.Encode(context.Global.Parameters, context.Global.AggregatedRounds),
                        [.. instructions.Select(RoundPlanCodec.ToRecord)]), now);
                    var contributions = replies.Select(r => new ContributionRecord(round, r.DeviceId, r.ExampleCount, ModelParametersCodec.Encode(r.Trained), r.UplinkBytes)).ToArray();
                    var metrics = JsonSerializer.Serialize(new { strategy = strategy.Name, accepted = result.Metrics.Accepted, examples = result.Metrics.TotalExamples });
                    store.CompleteRound(round, contributions, ModelParametersCodec.Encode(global.Parameters, global.AggregatedRounds), metrics, now);
                }
            }
            return global;
        }

        /// <summary>A device's shuffle seed depends on the run seed, the round and its own index only, so a retrain without one device leaves the others' seeds unchanged.</summary>
        private int TrainerSeed(int round, string deviceId) =>
            unchecked((Options.Seed * 7919) + (round * 104729) + DeviceIdsIndex(deviceId));

        private int DeviceIdsIndex(string deviceId)
        {
            for (var i = 0; i < DeviceIds.Count; i++)
                if (DeviceIds[i] == deviceId) return i;
            throw new ArgumentException($"Device {deviceId} is not in the federation.", nameof(deviceId));
        }
    }

    /// <summary>Measures a global model: merged into a copy of the base weights and run on the test, attack and forgotten shard sets.</summary>
    private sealed class Evaluation(TinyVitWeights baseWeights, Dataset test, Dataset attack, Dataset forgottenShard)
    {
        public UnlearningMethodResult Measure(string method, GlobalModelState state, GlobalModelState retrained, double seconds)
        {
            var weights = baseWeights.Clone();
            AdapterMerging.MergeInto(weights, state.Parameters.Adapters);
            var model = new TinyVitModel(weights);
            return new UnlearningMethodResult(
                method,
                model.Evaluate(test),
                model.Evaluate(attack),
                model.Evaluate(forgottenShard),
                AdapterDistance.Relative(state.Parameters, retrained.Parameters),
                seconds);
        }
    }
}
