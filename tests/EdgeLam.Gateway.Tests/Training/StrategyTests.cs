using CsCheck;
using EdgeLam.Contracts.Messages;
using EdgeLam.Gateway.Training;
using EdgeLam.Gateway.Training.Aggregation;
using EdgeLam.Gateway.Training.LinearAlgebra;
using EdgeLam.Gateway.Training.Strategies;
using EdgeLam.Model.Architecture;
using static EdgeLam.Gateway.Tests.Training.TrainingFixtures;

namespace EdgeLam.Gateway.Tests.Training;

public class StrategyTests
{
    private const string Query0 = "blocks.0.q";
    private const string Query1 = "blocks.1.q";

    public static TheoryData<string> LoraStrategies => new() { "fedlora_uniform", "fedlora_zeropad", "fedft_h" };

    public static TheoryData<string> AllStrategies => new() { "full_fedavg", "fedlora_uniform", "fedlora_zeropad", "fedft_h" };

    [Fact]
    public void Fedft_h_plans_each_tier_at_its_own_rank_precision_and_layers()
    {
        var instructions = new FedFtHStrategy().ConfigureTrain(Context(), [Jetson(), RaspberryPi(), Esp32()]);

        Assert.Equal([16, 8, 4], instructions.Select(i => i.Rank));
        Assert.Equal([Precision.Fp16, Precision.Fp16, Precision.Int8], instructions.Select(i => i.Precision));
        Assert.Equal([0, 1], instructions[0].Layers);
        Assert.Equal([0], instructions[2].Layers);
        Assert.Equal(12, instructions[0].StartFrom.Adapters.Count);
        Assert.Equal(6, instructions[2].StartFrom.Adapters.Count);
        Assert.All(instructions[2].StartFrom.Adapters, entry => Assert.StartsWith("blocks.0.", entry.Key));
        // Round 1 starts from a fresh LoRA: A random, B zero, scale alpha/r.
        var start = instructions[1].StartFrom.Adapters[Query0];
        Assert.Equal((8, Alpha / 8), (start.Rank, start.Scale));
        Assert.All(start.B, v => Assert.Equal(0f, v));
        Assert.Contains(start.A, v => v != 0);
    }

    [Fact]
    public void Uniform_plans_everyone_at_the_smallest_rank_and_full_fedavg_at_full_precision()
    {
        var fleet = new[] { Jetson(), RaspberryPi(), Esp32() };
        Assert.All(new UniformLoraStrategy().ConfigureTrain(Context(), fleet), i => Assert.Equal(4, i.Rank));

        var full = new FullFedAvgStrategy().ConfigureTrain(Context(), fleet);
        Assert.All(full, i => Assert.True(i.TrainsFullModel));
        // The ESP32 computes only INT8 and cannot hold the full model: it is not selected.
        Assert.Equal(["jetson-1", "pi-1"], full.Select(i => i.DeviceId));
        Assert.Equal([Precision.Fp32, Precision.Fp32], full.Select(i => i.Precision));
    }

    [Fact]
    public void Full_fedavg_selects_only_devices_whose_declared_memory_holds_the_training_state()
    {
        var needed = Layout.FullParameterCount * FullFedAvgStrategy.TrainingBytesPerParameter;
        var small = RaspberryPi("pi-small") with { MemoryBytes = needed - 1 };
        var fp16Only = new FleetMember("pi-fp16", DeviceTier.M, 8, [Precision.Fp16], null, 10) { MemoryBytes = needed };

        var plan = new FullFedAvgStrategy().ConfigureTrain(Context(), [small, fp16Only, Esp32()]);

        Assert.Equal(["pi-fp16"], plan.Select(i => i.DeviceId));
        Assert.Equal(Precision.Fp16, plan[0].Precision);
        Assert.Contains($"declares {needed - 1} bytes of model memory; training all {Layout.FullParameterCount} weights needs {needed}", FullFedAvgStrategy.Incapability(small, Layout));
        Assert.Contains("computes only in int8", FullFedAvgStrategy.Incapability(Esp32(), Layout));
    }

    [Fact]
    public void Full_fedavg_rejects_replies_that_miss_a_tensor_name_an_unknown_one_or_move_too_far()
    {
        var model = new TinyVitWeights(TinyVitConfig.Tiny).Tensors().ToDictionary(t => t.Name, t => t.Values);
        var global = new GlobalModelState(1, ModelParameters.FromFullWeights(model));
        var context = Context(global) with { Hyperparameters = Context().Hyperparameters with { MaximumUpdateNorm = 1 } };
        var good = new TrainingReply("pi-1", 10, ModelParameters.FromFullWeights(model.ToDictionary(e => e.Key, e => e.Value.Select(v => v + 0.001f).ToArray())), 8);
        var missing = new TrainingReply("pi-2", 10, ModelParameters.FromFullWeights(model.Where(e => e.Key != "head.bias").ToDictionary()), 8);
        var unknown = new TrainingReply("pi-3", 10, ModelParameters.FromFullWeights(new Dictionary<string, float[]>(model) { ["blocks.9.q.weight"] = [1f] }), 8);
        var far = new TrainingReply("pi-4", 10, ModelParameters.FromFullWeights(model.ToDictionary(e => e.Key, e => e.Value.Select(v => v + 1f).ToArray())), 8);

        var result = new FullFedAvgStrategy().AggregateTrain(context, [good, missing, unknown, far], []);

        Assert.Equal(["pi-2", "pi-3", "pi-4"], result.Rejected.Select(r => r.DeviceId));
        Assert.Contains("head.bias is missing and a full update carries every trainable weight", result.Rejected[0].Reason);
        Assert.Contains("tensor blocks.9.q.weight, which is not a weight of the model", result.Rejected[1].Reason);
        Assert.Contains("weight update norm", result.Rejected[2].Reason);
        Assert.Contains("exceeds the bound 1", result.Rejected[2].Reason);
        Assert.Equal(1, result.Metrics.Accepted);
    }

    [Theory]
    [MemberData(nameof(LoraStrategies))]
    public void A_lora_reply_above_the_norm_bound_is_rejected_and_one_below_is_kept(string name)
    {
        var small = RandomReply("pi-1", 400, 4, null, seed: 40);
        var norm = Math.Sqrt(small.Trained.Adapters.Values.Sum(f => Math.Pow(LowRankNorm.Frobenius(f), 2)));
        var large = RandomReply("pi-2", 400, 4, null, seed: 40);
        foreach (var factors in large.Trained.Adapters.Values)
            for (var i = 0; i < factors.B.Length; i++) factors.B[i] *= 3;
        var context = Context() with { Hyperparameters = Context().Hyperparameters with { MaximumUpdateNorm = 2 * norm } };

        var result = StrategyCatalog.Create(name).AggregateTrain(context, [small, large], []);

        Assert.Equal(AggregationOutcome.Aggregated, result.Outcome);
        var rejected = Assert.Single(result.Rejected);
        Assert.Equal("pi-2", rejected.DeviceId);
        Assert.Contains($"exceeds the bound {2 * norm:G4}", rejected.Reason);
    }

    [Fact]
    public void Planning_skips_devices_without_rank_or_layers_and_duplicate_ids()
    {
        var fleet = new[]
        {
            Jetson(), Jetson(), RaspberryPi(examples: 0), Esp32() with { MaxRank = 0 }, Esp32("esp32-2") with { AdaptableLayers = [7] },
        };
        var instructions = new FedFtHStrategy().ConfigureTrain(Context(), fleet);
        // An unknown example count (0) does not exclude a device: replies carry the count that weighs them.
        Assert.Equal(["jetson-1", "pi-1"], instructions.Select(i => i.DeviceId));
    }

    [Fact]
    public void Planning_is_reproducible_for_the_same_round_context()
    {
        var first = new FedFtHStrategy().ConfigureTrain(Context(), [RaspberryPi()]);
        var second = new FedFtHStrategy().ConfigureTrain(Context(), [RaspberryPi()]);
        Assert.Equal(first[0].StartFrom.Adapters[Query0].A, second[0].StartFrom.Adapters[Query0].A);
    }

    [Fact]
    public void Fedft_h_is_exact_where_zero_padding_averages_the_factors_wrongly()
    {
        var high = RandomReply("jetson-1", 600, 16, null, seed: 1);
        var low = RandomReply("esp32-1", 200, 4, [0], seed: 2);
        var expected = ExpectedProductMean(Query0, high, low);

        var exact = new FedFtHStrategy().AggregateTrain(Context(), [high, low], []);
        var padded = new ZeroPaddedLoraStrategy().AggregateTrain(Context(), [high, low], []);

        Assert.True(RelativeDifference(expected, Dense(exact.Global.Parameters.Adapters[Query0])) < 1e-5);
        // Product of means ≠ mean of products: the naive baseline is off by a large fraction.
        Assert.True(RelativeDifference(expected, Dense(padded.Global.Parameters.Adapters[Query0])) > 0.2);
    }

    [Fact]
    public void Uniform_factor_averaging_differs_from_the_mean_of_products_even_at_equal_rank()
    {
        var first = RandomReply("pi-1", 400, 4, null, seed: 3);
        var second = RandomReply("pi-2", 400, 4, null, seed: 4);
        var expected = ExpectedProductMean(Query0, first, second);

        var uniform = new UniformLoraStrategy().AggregateTrain(Context(), [first, second], []);
        var exact = new FedFtHStrategy().AggregateTrain(Context(), [first, second], []);

        Assert.True(RelativeDifference(expected, Dense(uniform.Global.Parameters.Adapters[Query0])) > 0.2);
        Assert.True(RelativeDifference(expected, Dense(exact.Global.Parameters.Adapters[Query0])) < 1e-5);
    }

    [Fact]
    public void A_layer_trained_by_only_some_devices_averages_over_only_those()
    {
        var high = RandomReply("jetson-1", 600, 16, null, seed: 5);
        var low = RandomReply("esp32-1", 200, 4, [0], seed: 6);
        var result = new FedFtHStrategy().AggregateTrain(Context(), [high, low], []);

        // Layer 1 saw only the Jetson: its aggregate is the Jetson's own update, not diluted by the ESP32's weight.
        Assert.True(RelativeDifference(Dense(high.Trained.Adapters[Query1]), Dense(result.Global.Parameters.Adapters[Query1])) < 1e-5);
        var metrics = result.Metrics.Projections.ToDictionary(p => p.Projection);
        Assert.Equal(2, metrics[Query0].Contributors);
        Assert.Equal(1, metrics[Query1].Contributors);

        var padded = new ZeroPaddedLoraStrategy().AggregateTrain(Context(), [high, low], []);
        Assert.Equal(high.Trained.Adapters[Query1].A, padded.Global.Parameters.Adapters[Query1].A);
    }

    [Fact]
    public void Example_counts_weight_the_aggregate()
    {
        var first = RandomReply("pi-1", 100, 8, null, seed: 7);
        var second = RandomReply("pi-2", 300, 8, null, seed: 8);
        var result = new FedFtHStrategy().AggregateTrain(Context(), [first, second], []);
        Assert.True(RelativeDifference(ExpectedProductMean(Query0, first, second), Dense(result.Global.Parameters.Adapters[Query0])) < 1e-5);

        var uniform = new UniformLoraStrategy().AggregateTrain(Context(), [first, second], []);
        var a0 = uniform.Global.Parameters.Adapters[Query0].A[0];
        Assert.Equal((0.25 * first.Trained.Adapters[Query0].A[0]) + (0.75 * second.Trained.Adapters[Query0].A[0]), a0, 1e-6);
        Assert.Equal(400, result.Metrics.TotalExamples);
    }

    [Fact]
    public void Fedft_h_downlinks_are_the_best_approximation_at_each_device_rank()
    {
        var replies = new[]
        {
            RandomReply("jetson-1", 600, 16, null, seed: 9),
            RandomReply("pi-1", 400, 8, null, seed: 10),
            RandomReply("esp32-1", 200, 4, [0], seed: 11),
        };
        var result = new FedFtHStrategy().AggregateTrain(Context(), replies, []);
        var expected = ExpectedProductMean("blocks.0.fc1", replies);
        var optimum = JacobiSvd.Decompose(expected);

        foreach (var downlink in result.Downlinks)
        {
            var factors = downlink.Parameters.Adapters["blocks.0.fc1"];
            Assert.Equal((downlink.Rank, Alpha / downlink.Rank), (factors.Rank, factors.Scale));
            var error = expected.Subtract(Dense(factors)).FrobeniusNorm();
            Assert.Equal(optimum.TruncationError(downlink.Rank), error, 1e-4 * expected.FrobeniusNorm());
        }
        Assert.Equal(6, result.Downlinks.Single(d => d.DeviceId == "esp32-1").Parameters.Adapters.Count);
        var truncation = result.Metrics.Projections.Single(p => p.Projection == "blocks.0.fc1").RelativeTruncationErrorByRank;
        Assert.Equal([4, 8, 16], truncation.Keys);
        Assert.True(truncation[4] > truncation[8] && truncation[8] > truncation[16]);
    }

    [Fact]
    public void Next_round_starts_each_device_from_the_global_at_its_rank()
    {
        var replies = new[] { RandomReply("jetson-1", 600, 16, null, seed: 12), RandomReply("pi-1", 400, 8, null, seed: 13) };
        var strategy = new FedFtHStrategy();
        var first = strategy.AggregateTrain(Context(), replies, []);
        Assert.Equal(1, first.Global.AggregatedRounds);

        var next = strategy.ConfigureTrain(Context(first.Global, round: 2), [Jetson(), RaspberryPi()]);
        var global = Dense(first.Global.Parameters.Adapters[Query0]);
        var optimum = JacobiSvd.Decompose(global);
        foreach (var instruction in next)
        {
            var start = Dense(instruction.StartFrom.Adapters[Query0]);
            Assert.Equal(optimum.TruncationError(instruction.Rank), global.Subtract(start).FrobeniusNorm(), 1e-4 * global.FrobeniusNorm());
        }
    }

    [Fact]
    public void Fedft_h_keeps_what_a_low_rank_device_cannot_hold_when_no_device_changes_its_start()
    {
        var strategy = new FedFtHStrategy();
        var first = strategy.AggregateTrain(Context(), [RandomReply("jetson-1", 600, 16, null, seed: 21), RandomReply("pi-1", 400, 8, null, seed: 22)], []);
        var context = Context(first.Global, round: 2);
        var unchanged = strategy.ConfigureTrain(context, [Jetson(), RaspberryPi()])
            .Select(i => new TrainingReply(i.DeviceId, i.DeviceId == "pi-1" ? 400 : 600, i.StartFrom, 0))
            .ToArray();

        var second = strategy.AggregateTrain(context, unchanged, []);

        // The plain mean of the returned products would be 0.6·G + 0.4·(best rank-8 part of G).
        var global = Dense(first.Global.Parameters.Adapters[Query0]);
        Assert.True(RelativeDifference(global, Dense(second.Global.Parameters.Adapters[Query0])) < 1e-5);
    }

    [Theory]
    [MemberData(nameof(LoraStrategies))]
    public void A_failed_device_contributes_nothing(string name)
    {
        var strategy = StrategyCatalog.Create(name);
        var first = RandomReply("pi-1", 400, 4, null, seed: 14);
        var second = RandomReply("pi-2", 200, 4, null, seed: 15);
        var failure = new TrainingFailure("jetson-1", "no reply within 30 s");

        var withFailure = strategy.AggregateTrain(Context(), [first, second], [failure]);
        var without = strategy.AggregateTrain(Context(), [first, second], []);

        Assert.Equal(AggregationOutcome.Aggregated, withFailure.Outcome);
        Assert.Equal(without.Global.Parameters.Adapters[Query0].A, withFailure.Global.Parameters.Adapters[Query0].A);
        Assert.Equal(without.Global.Parameters.Adapters[Query0].B, withFailure.Global.Parameters.Adapters[Query0].B);
        Assert.Equal((2, 1), (withFailure.Metrics.Accepted, withFailure.Metrics.Failed));
        Assert.DoesNotContain(withFailure.Downlinks, d => d.DeviceId == "jetson-1");
    }

    [Theory]
    [MemberData(nameof(AllStrategies))]
    public void A_round_where_every_device_failed_keeps_the_previous_state_and_says_so(string name)
    {
        var previous = new GlobalModelState(3, ModelParameters.Empty);
        var result = StrategyCatalog.Create(name).AggregateTrain(
            Context(previous, round: 4), [], [new TrainingFailure("pi-1", "disconnected"), new TrainingFailure("esp32-1", "timeout")]);

        Assert.Equal(AggregationOutcome.KeptPreviousState, result.Outcome);
        Assert.Same(previous, result.Global);
        Assert.Empty(result.Downlinks);
        Assert.Equal(2, result.Metrics.Failed);
        Assert.Contains("no usable update (2 failed, 0 rejected)", result.Summary);
    }

    [Theory]
    [MemberData(nameof(LoraStrategies))]
    public void A_reply_with_nan_or_infinity_is_rejected_with_a_reason_and_not_averaged(string name)
    {
        var strategy = StrategyCatalog.Create(name);
        var good = RandomReply("pi-1", 400, 4, null, seed: 16);
        var poisoned = RandomReply("pi-2", 400, 4, null, seed: 17);
        poisoned.Trained.Adapters["blocks.1.fc2"].B[5] = float.NaN;
        var infinite = RandomReply("pi-3", 400, 4, null, seed: 18);
        infinite.Trained.Adapters[Query0].A[0] = float.PositiveInfinity;

        var result = strategy.AggregateTrain(Context(), [good, poisoned, infinite], []);
        var alone = strategy.AggregateTrain(Context(), [good], []);

        Assert.Equal(["pi-2", "pi-3"], result.Rejected.Select(r => r.DeviceId));
        Assert.Contains("blocks.1.fc2.B[5] is NaN", result.Rejected[0].Reason);
        Assert.Contains("blocks.0.q.A[0] is Infinity", result.Rejected[1].Reason);
        Assert.Equal(alone.Global.Parameters.Adapters[Query0].B, result.Global.Parameters.Adapters[Query0].B);
        Assert.All(result.Global.Parameters.Adapters.Values, f => Assert.All(f.B, v => Assert.True(float.IsFinite(v))));
    }

    [Fact]
    public void Full_fedavg_weights_by_example_count_and_rejects_non_finite_weights()
    {
        var global = GlobalModelState.FromBaseWeights(new Dictionary<string, float[]> { ["head.W"] = [0f, 0f], ["head.B"] = [1f] });
        var first = new TrainingReply("jetson-1", 300, ModelParameters.FromFullWeights(new Dictionary<string, float[]> { ["head.W"] = [1f, 10f] }), 8);
        var second = new TrainingReply("pi-1", 100, ModelParameters.FromFullWeights(new Dictionary<string, float[]> { ["head.W"] = [5f, 2f] }), 8);
        var broken = new TrainingReply("esp32-1", 100, ModelParameters.FromFullWeights(new Dictionary<string, float[]> { ["head.W"] = [float.NaN, 2f] }), 8);
        var misshapen = new TrainingReply("esp32-2", 100, ModelParameters.FromFullWeights(new Dictionary<string, float[]> { ["head.W"] = [1f] }), 8);

        // A layout without the model's tensor table: lengths come from the global weights.
        var context = Context(global) with { Layout = new AdapterLayout(Layout.Projections) };
        var result = new FullFedAvgStrategy().AggregateTrain(context, [first, second, broken, misshapen], [new TrainingFailure("pi-2", "timeout")]);

        Assert.Equal([2f, 8f], result.Global.Parameters.FullWeights["head.W"]);
        Assert.Equal([1f], result.Global.Parameters.FullWeights["head.B"]);
        Assert.Equal(2, result.Rejected.Count);
        Assert.Contains("head.W[0] is NaN", result.Rejected[0].Reason);
        Assert.Contains("holds 1 values, expected 2", result.Rejected[1].Reason);
        Assert.Equal((2, 1, 32L), (result.Metrics.Accepted, result.Metrics.Failed, result.Metrics.UplinkBytes));
    }

    [Fact]
    public void Malformed_adapter_replies_are_rejected_with_specific_reasons()
    {
        var good = RandomReply("pi-1", 400, 4, null, seed: 19);
        var unknown = new TrainingReply("pi-2", 10, ModelParameters.FromAdapters(new Dictionary<string, LoraFactors>
        {
            ["blocks.9.q"] = good.Trained.Adapters[Query0],
        }), 0);
        var wrongShape = new TrainingReply("pi-3", 10, ModelParameters.FromAdapters(new Dictionary<string, LoraFactors>
        {
            ["blocks.0.fc1"] = good.Trained.Adapters[Query0],
        }), 0);
        var wrongScale = new TrainingReply("pi-4", 10, ModelParameters.FromAdapters(new Dictionary<string, LoraFactors>
        {
            [Query0] = good.Trained.Adapters[Query0] with { Scale = 1f },
        }), 0);
        var truncatedBuffer = new TrainingReply("pi-5", 10, ModelParameters.FromAdapters(new Dictionary<string, LoraFactors>
        {
            [Query0] = good.Trained.Adapters[Query0] with { A = new float[3] },
        }), 0);
        var noExamples = good with { DeviceId = "pi-6", ExampleCount = 0 };

        var result = new FedFtHStrategy().AggregateTrain(Context(), [good, unknown, wrongShape, wrongScale, truncatedBuffer, noExamples, good], []);

        var reasons = result.Rejected.Select(r => r.Reason).ToArray();
        Assert.Equal(6, reasons.Length);
        Assert.Contains("blocks.9.q, which is not an adapted projection", reasons[0]);
        Assert.Contains("blocks.0.fc1 is 16x16, the model's is 32x16", reasons[1]);
        Assert.Contains("scale 1, alpha 16 / rank 4 is 4", reasons[2]);
        Assert.Contains("blocks.0.q.A holds 3 values", reasons[3]);
        Assert.Contains("0 training examples", reasons[4]);
        Assert.Contains("replied more than once", reasons[5]);
        Assert.Equal(1, result.Metrics.Accepted);
    }

    [Fact]
    public void Uniform_rejects_a_reply_at_another_rank()
    {
        var result = new UniformLoraStrategy().AggregateTrain(
            Context(), [RandomReply("pi-1", 400, 4, null, seed: 20), RandomReply("jetson-1", 400, 16, null, seed: 21)], []);
        Assert.Contains("trained at rank 16; this round's uniform rank is 4", Assert.Single(result.Rejected).Reason);
        Assert.Equal(4, result.Global.Parameters.Adapters[Query0].Rank);
    }

    [Fact]
    public void Unknown_strategy_names_are_refused_with_the_known_ones()
    {
        var error = Assert.Throws<ArgumentException>(() => StrategyCatalog.Create("fedprox"));
        Assert.Contains("Unknown training strategy 'fedprox'; known: full_fedavg, fedlora_uniform, fedlora_zeropad, fedft_h", error.Message);
    }
}

public class FedFtHPropertyTests
{
    [Fact]
    public void Fedft_h_aggregate_is_the_example_weighted_mean_of_products_for_any_fleet()
    {
        var devices =
            from rank in Gen.Int[1, 16]
            from examples in Gen.Int[1, 1000]
            from onlyFirstLayer in Gen.Bool
            from seed in Gen.Int
            select (rank, examples, onlyFirstLayer, seed);
        Gen.Select(devices.Array[1, 5], Gen.Int[0, 11]).Sample((fleet, projectionIndex) =>
        {
            var replies = fleet.Select((d, i) => RandomReply($"device-{i}", d.examples, d.rank, d.onlyFirstLayer ? [0] : null, d.seed)).ToArray();
            var result = new FedFtHStrategy().AggregateTrain(Context(), replies, []);
            var projection = Layout.Projections[projectionIndex].Name;
            if (!replies.Any(r => r.Trained.Adapters.ContainsKey(projection)))
            {
                Assert.False(result.Global.Parameters.Adapters.ContainsKey(projection));
                return;
            }
            var expected = ExpectedProductMean(projection, replies);
            Assert.True(RelativeDifference(expected, Dense(result.Global.Parameters.Adapters[projection])) < 1e-4);
        }, iter: 40);
    }

    [Fact]
    public void Zero_padding_is_not_the_weighted_mean_of_products_for_random_fleets()
    {
        // Balanced example counts: with one device dominating, any average is close to that device's product.
        var devices =
            from rank in Gen.Int[1, 16]
            from examples in Gen.Int[100, 200]
            from seed in Gen.Int
            select (rank, examples, seed);
        Gen.Select(devices.Array[2, 5], Gen.Int[0, 11]).Sample((fleet, projectionIndex) =>
        {
            var replies = fleet.Select((d, i) => RandomReply($"device-{i}", d.examples, d.rank, null, d.seed)).ToArray();
            var projection = Layout.Projections[projectionIndex].Name;
            var expected = ExpectedProductMean(projection, replies);
            var exact = new FedFtHStrategy().AggregateTrain(Context(), replies, []);
            var padded = new ZeroPaddedLoraStrategy().AggregateTrain(Context(), replies, []);
            Assert.True(RelativeDifference(expected, Dense(exact.Global.Parameters.Adapters[projection])) < 1e-4);
            Assert.True(RelativeDifference(expected, Dense(padded.Global.Parameters.Adapters[projection])) > 0.1);
        }, iter: 40);
    }
}
