using EdgeLam.Contracts.Messages;
using EdgeLam.Gateway.Inference;
using EdgeLam.Gateway.Inference.Scheduling;
using EdgeLam.Model.Variants;

namespace EdgeLam.Gateway.Tests.Inference;

public sealed class SchedulerTests
{
    private static readonly Precision[] AllPrecisions = [Precision.Fp32, Precision.Fp16, Precision.Int8];

    // Two stages; FP32 is the reference (0.85), INT8 costs a point per stage, Pruned-INT8 five.
    private static readonly ServicePortfolio Portfolio = new(
        ["embed", "head"],
        [
            new StageVariant("embed", 0, ModelVariant.Fp32, 4000, 1000, 0.85),
            new StageVariant("embed", 0, ModelVariant.Int8, 1000, 1000, 0.84),
            new StageVariant("embed", 0, ModelVariant.PrunedInt8, 800, 700, 0.80),
            new StageVariant("head", 1, ModelVariant.Fp32, 400, 100, 0.85),
            new StageVariant("head", 1, ModelVariant.Int8, 100, 100, 0.84),
        ],
        0.85,
        new Dictionary<ModelVariant, double> { [ModelVariant.Fp32] = 0.85 });

    private static StageVariant Variant(string id) => Portfolio.TryFind(id, out var v) ? v : throw new ArgumentException(id);

    private static DeviceSnapshot Device(string id, double backlog = 0, bool online = true, long memory = 1 << 20, double? watts = 5, params Precision[] precisions) =>
        new(id, online, precisions.Length == 0 ? AllPrecisions : precisions, memory, watts, backlog);

    private static SchedulingCandidate Pair(string variantId, DeviceSnapshot device, double service) =>
        new(Variant(variantId), device, service, ServicePerformance.ModelledEnergyMillijoules(service, device.BusyWatts));

    private static StageDecision Decision(IReadOnlyList<SchedulingCandidate> pairs, QosRequirement? qos = null, int stage = 0, VirtualQueueState queues = default, double elapsed = 0) =>
        new(Portfolio, stage, [], qos ?? QosRequirement.BestEffort, elapsed, pairs, queues);

    [Fact]
    public void Filter_drops_offline_devices_missing_precisions_and_too_little_memory()
    {
        var pairs = new[]
        {
            Pair("embed-fp32", Device("offline", online: false), 1),
            Pair("embed-fp32", Device("int8-only", precisions: Precision.Int8), 1),
            Pair("embed-fp32", Device("tiny-memory", memory: 2000), 1),
            Pair("embed-int8", Device("int8-only", precisions: Precision.Int8), 2),
            Pair("head-fp32", Device("online"), 1),
        };

        var filtering = CandidateFilter.Filter(Decision(pairs));

        var kept = Assert.Single(filtering.Feasible);
        Assert.Equal(("embed-int8", "int8-only"), (kept.Variant.VariantId, kept.Device.DeviceId));
        Assert.False(filtering.LatencyRelaxed);
    }

    [Fact]
    public void Filter_keeps_only_variants_whose_chain_can_still_reach_the_accuracy_floor()
    {
        var device = Device("d");
        var pairs = new[] { Pair("embed-fp32", device, 3), Pair("embed-int8", device, 2), Pair("embed-pruned_int8", device, 1), Pair("head-fp32", device, 1) };

        // Best completion is head FP32 (no drop): embed INT8 gives 0.84, pruned 0.80.
        var feasible = CandidateFilter.Filter(Decision(pairs, new QosRequirement(0.83, TimeSpan.FromSeconds(1)))).Feasible;

        Assert.Equal(["embed-fp32", "embed-int8"], feasible.Select(c => c.Variant.VariantId).Order());
        var none = CandidateFilter.Filter(Decision(pairs, new QosRequirement(0.9, TimeSpan.FromSeconds(1))));
        Assert.Empty(none.Feasible);
        Assert.Contains("accuracy", none.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Filter_keeps_pairs_within_the_remaining_latency_budget_and_relaxes_only_when_none_fits()
    {
        var pairs = new[]
        {
            Pair("embed-fp32", Device("idle"), 20),
            Pair("embed-fp32", Device("busy", backlog: 70), 20),
            Pair("head-fp32", Device("idle"), 10),
        };

        // Budget 100 ms, head needs at least 10: the busy device (90 ms expected) does not fit after 5 ms elapsed.
        var timely = CandidateFilter.Filter(Decision(pairs, new QosRequirement(0, TimeSpan.FromMilliseconds(100)), elapsed: 5));
        Assert.Equal("idle", Assert.Single(timely.Feasible).Device.DeviceId);

        var late = CandidateFilter.Filter(Decision(pairs, new QosRequirement(0, TimeSpan.FromMilliseconds(100)), elapsed: 80));
        Assert.True(late.LatencyRelaxed);
        Assert.Equal(2, late.Feasible.Count);
    }

    [Fact]
    public void Filter_excludes_devices_that_failed_the_task_and_says_why_when_nothing_is_left()
    {
        var pairs = new[] { Pair("embed-fp32", Device("a"), 1), Pair("head-fp32", Device("a"), 1) };
        var filtering = CandidateFilter.Filter(Decision(pairs), new HashSet<string> { "a" });
        Assert.Empty(filtering.Feasible);
        Assert.Contains("excluded", filtering.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Drift_plus_penalty_prefers_the_less_backlogged_device_at_small_V_and_the_cheaper_pair_at_large_V()
    {
        // Fast but backlogged (10 ms compute, 100 ms queued) against slow and idle (30 ms compute).
        var fast = Pair("embed-fp32", Device("fast", backlog: 100, watts: 1), 10);
        var idle = Pair("embed-fp32", Device("idle", backlog: 0, watts: 1), 30);
        var decision = Decision([fast, idle, Pair("head-fp32", Device("fast"), 1)]);

        Assert.Equal("idle", new DriftPlusPenaltyPolicy(tradeoff: 1).Choose(decision, [fast, idle])!.Device.DeviceId);
        Assert.Equal("fast", new DriftPlusPenaltyPolicy(tradeoff: 100).Choose(decision, [fast, idle])!.Device.DeviceId);
    }

    [Fact]
    public void Drift_plus_penalty_cost_grows_with_the_virtual_queues()
    {
        var fp32 = Pair("embed-fp32", Device("d"), 10);
        var pruned = Pair("embed-pruned_int8", Device("d"), 5);
        var policy = new DriftPlusPenaltyPolicy(tradeoff: 1, new PerformanceWeights(1, 0));

        // Without accuracy debt the cheaper pruned variant wins; a large Z_accuracy makes the drop too costly.
        Assert.Equal(ModelVariant.PrunedInt8, policy.Choose(Decision([fp32, pruned]), [fp32, pruned])!.Variant.Variant);
        Assert.Equal(ModelVariant.Fp32, policy.Choose(Decision([fp32, pruned], queues: new VirtualQueueState(0, 10)), [fp32, pruned])!.Variant.Variant);
        var withLatencyDebt = Decision([fp32], queues: new VirtualQueueState(50, 0));
        Assert.Equal(policy.Cost(Decision([fp32]), fp32) + (50 * fp32.ExpectedLatencyMilliseconds), policy.Cost(withLatencyDebt, fp32), 9);
    }

    [Fact]
    public void Virtual_queues_grow_by_the_excess_and_never_go_negative()
    {
        var state = VirtualQueues.Next(default, latencyMilliseconds: 120, budgetMilliseconds: 100, accuracyEstimate: 0.80, minimumAccuracy: 0.82);
        Assert.Equal(20, state.Latency, 9);
        Assert.Equal(2, state.Accuracy, 9);
        state = VirtualQueues.Next(state, latencyMilliseconds: 90, budgetMilliseconds: 100, accuracyEstimate: 0.85, minimumAccuracy: 0.82);
        Assert.Equal(10, state.Latency, 9);
        Assert.Equal(0, state.Accuracy, 9);
        state = VirtualQueues.Next(state, latencyMilliseconds: 0, budgetMilliseconds: 100, accuracyEstimate: 0.85, minimumAccuracy: 0.82);
        Assert.Equal(0, state.Latency);
    }

    [Fact]
    public void Greedy_takes_the_earliest_finish_and_round_robin_takes_devices_in_turn()
    {
        var a = Pair("embed-fp32", Device("a", backlog: 5), 10);
        var b = Pair("embed-fp32", Device("b", backlog: 0), 12);
        var c = Pair("embed-int8", Device("c", backlog: 0), 20);
        var decision = Decision([a, b, c]);

        Assert.Equal("b", new GreedyPolicy().Choose(decision, [a, b, c])!.Device.DeviceId);
        var roundRobin = new RoundRobinPolicy();
        Assert.Equal(["a", "b", "c", "a"], Enumerable.Range(0, 4).Select(_ => roundRobin.Choose(decision, [a, b, c])!.Device.DeviceId));
    }

    [Fact]
    public void Monolithic_places_the_first_stage_on_a_device_that_serves_every_stage_and_stays_there()
    {
        var partial = Device("partial");
        var whole = Device("whole", backlog: 50);
        var pairs = new[] { Pair("embed-fp32", partial, 1), Pair("embed-fp32", whole, 5), Pair("head-fp32", whole, 1) };
        var policy = new MonolithicPolicy();

        var first = policy.Choose(Decision(pairs), [pairs[0], pairs[1]]);
        Assert.Equal("whole", first!.Device.DeviceId);
        var second = new StageDecision(Portfolio, 1, [first], QosRequirement.BestEffort, 0, pairs, default);
        Assert.Equal("whole", policy.Choose(second, [pairs[2]])!.Device.DeviceId);
    }

    [Fact]
    public void Monolithic_keeps_every_request_on_the_one_device_it_chose_until_that_device_goes()
    {
        SchedulingCandidate[] PairsOf(DeviceSnapshot device, double service) => [Pair("embed-fp32", device, service), Pair("head-fp32", device, service)];
        var policy = new MonolithicPolicy();
        var fleet = PairsOf(Device("a"), 1).Concat(PairsOf(Device("b"), 2)).ToArray();
        Assert.Equal("a", policy.Choose(Decision(fleet), [fleet[0], fleet[2]])!.Device.DeviceId);

        // Busy now, still the one device: a request it cannot take in time is refused rather than moved.
        var busy = PairsOf(Device("a", backlog: 500), 1).Concat(PairsOf(Device("b"), 2)).ToArray();
        Assert.Equal("a", policy.Choose(Decision(busy), [busy[0], busy[2]])!.Device.DeviceId);
        Assert.Null(policy.Choose(Decision(busy), [busy[2]]));

        var gone = PairsOf(Device("a", online: false), 1).Concat(PairsOf(Device("b"), 2)).ToArray();
        Assert.Equal("b", policy.Choose(Decision(gone), [gone[2]])!.Device.DeviceId);
        Assert.Equal("b", policy.Device);
    }

    [Fact]
    public void Chain_accuracy_estimate_subtracts_each_swapped_stage_drop()
    {
        Assert.Equal(0.85, Portfolio.ChainAccuracyEstimate([Variant("embed-fp32"), Variant("head-fp32")]), 9);
        Assert.Equal(0.79, Portfolio.ChainAccuracyEstimate([Variant("embed-pruned_int8"), Variant("head-int8")]), 9);
    }

    [Fact]
    public void Performance_table_starts_from_profile_throughput_then_calibration_then_a_running_average()
    {
        var table = new ServicePerformance(smoothing: 0.5);
        var embed = Variant("embed-fp32");
        var profile = table.Latency(embed, "d", announcedMacsPerSecond: 1e6);
        Assert.Equal((1.0, LatencySource.ProfileThroughput), (profile.Milliseconds, profile.Source));
        table.RecordCalibration(embed.VariantId, "d", 4);
        Assert.Equal((4.0, LatencySource.Calibration), (table.Latency(embed, "d", 1e6).Milliseconds, table.Latency(embed, "d", 1e6).Source));
        table.RecordObservation(embed.VariantId, "d", 8);
        Assert.Equal(6, table.Latency(embed, "d", 1e6).Milliseconds, 9);
        table.RecordCalibration(embed.VariantId, "d", 100);
        Assert.Equal(6, table.Latency(embed, "d", 1e6).Milliseconds, 9);
        Assert.Throws<ArgumentOutOfRangeException>(() => table.RecordObservation(embed.VariantId, "d", -1));
    }

    [Fact]
    public void Placement_covers_every_stage_first_then_adds_accurate_variants_within_memory()
    {
        var artifacts = new SizedArtifacts();
        var roomy = GatewayHello("roomy", 1 << 20, Precision.Fp32, Precision.Int8);
        Assert.Equal(5, PlacementPlanner.Plan(Portfolio, artifacts, roomy).Count);

        // 3 × (800 + 100) bytes covers both stages with the smallest variants; nothing else fits.
        var tight = GatewayHello("tight", 3 * 900, Precision.Fp32, Precision.Int8);
        Assert.Equal(["embed-pruned_int8", "head-int8"], PlacementPlanner.Plan(Portfolio, artifacts, tight).Select(p => p.Variant.VariantId).Order());

        var int8Only = GatewayHello("mcu", 1 << 20, Precision.Int8);
        Assert.DoesNotContain(PlacementPlanner.Plan(Portfolio, artifacts, int8Only), p => p.Variant.Variant == ModelVariant.Fp32);
    }

    [Fact]
    public void Qos_rejects_out_of_range_fields_by_name()
    {
        Assert.Equal("MinimumAccuracy", Assert.Throws<ArgumentOutOfRangeException>(() => new QosRequirement(1.5, TimeSpan.FromSeconds(1)).Validate()).ParamName);
        Assert.Equal("MaximumLatency", Assert.Throws<ArgumentOutOfRangeException>(() => new QosRequirement(0.5, TimeSpan.Zero).Validate()).ParamName);
        Assert.Equal("Priority", Assert.Throws<ArgumentOutOfRangeException>(() => new QosRequirement(0.5, TimeSpan.FromSeconds(1), 11).Validate()).ParamName);
    }

    [Fact]
    public void Activations_travel_as_int8_only_between_two_integer_stages()
    {
        var values = Enumerable.Range(0, 12).Select(i => (i - 6) * 0.25f).ToArray();
        var float32 = EdgeLam.Contracts.Wire.TensorFrame.FromFloats(values, [1, 3, 4]);

        var integer = ActivationFrames.ForNextStage(float32, Variant("embed-int8"), Variant("head-int8"));
        Assert.Equal(EdgeLam.Contracts.Wire.TensorDataType.Int8, integer.DataType);
        Assert.Equal([1, 3, 4], integer.Shape);
        Assert.All(integer.Dequantize().Zip(values), pair => Assert.Equal(pair.Second, pair.First, 0.01));

        Assert.Same(float32, ActivationFrames.ForNextStage(float32, Variant("embed-fp32"), Variant("head-int8")));
        var back = ActivationFrames.ForNextStage(integer, Variant("embed-int8"), Variant("head-fp32"));
        Assert.Equal(EdgeLam.Contracts.Wire.TensorDataType.Float32, back.DataType);
        Assert.Equal(integer.Dequantize(), back.Dequantize());
    }

    [Fact]
    public void Sweep_point_averages_penalty_backlog_and_latency_of_served_requests()
    {
        var qos = new QosRequirement(0.5, TimeSpan.FromMilliseconds(100), Priority: 1);
        InferenceResult Served(double compute, double wait, double latency, bool met) => new(true, 3, [], latency,
            [new StagePlacement("embed", "embed-fp32", "d", compute, wait, compute + wait, 1, compute * 2)], 0.8, met, InferenceStrategy.DriftPlusPenalty, null);
        var failed = new InferenceResult(false, -1, [], 5, [], 0, false, InferenceStrategy.DriftPlusPenalty, "stage embed: none");

        var point = TradeoffSweep.Summarize(4, [Served(10, 0, 20, true), Served(20, 10, 120, false), failed], qos, new PerformanceWeights(1, 0.5));

        // Penalty per request: (1 + priority) × compute + 0.5 × (2 × compute) = 3 × compute.
        Assert.Equal((4.0, 3, 45.0, 5.0, 70.0, 1), (point.Tradeoff, point.Requests, point.MeanPenalty, point.MeanBacklogMilliseconds, point.MeanLatencyMilliseconds, point.Failures));
        Assert.Equal(1.0 / 3, point.QosMetFraction, 9);
    }

    private static DeviceHello GatewayHello(string id, long memory, params Precision[] precisions) =>
        Rounds.GatewayHarness.Hello(id, "board", DeviceTier.M, 8, precisions) with { MemoryBytes = memory };

    private sealed class SizedArtifacts : IStageArtifacts
    {
        public byte[]? ArtifactFor(StageVariant variant, DeviceTier tier) => new byte[variant.SizeBytes];
    }
}
