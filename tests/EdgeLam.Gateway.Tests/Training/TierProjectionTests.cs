using EdgeLam.Contracts.Messages;
using EdgeLam.Gateway.Training;
using EdgeLam.Gateway.Training.Rounds;
using EdgeLam.Gateway.Training.Strategies;
using EdgeLam.Model.Architecture;
using static EdgeLam.Gateway.Tests.Training.TrainingFixtures;

namespace EdgeLam.Gateway.Tests.Training;

/// <summary>Per-tier projection selection: the ESP32s (L) train fc2 of the last block, the Pi and Jetson q and v.</summary>
public sealed class TierProjectionTests
{
    private const string Fc2 = "blocks.1.fc2";
    private static readonly string[] QueriesAndValues = ["blocks.0.q", "blocks.0.v", "blocks.1.q", "blocks.1.v"];

    private static readonly AdapterLayout TieredLayout = AdapterLayout.ForTinyVit(TinyVitConfig.Tiny, ["q", "v"],
        new Dictionary<DeviceTier, IReadOnlyCollection<string>> { [DeviceTier.L] = [Fc2] });

    private static RoundContext TieredContext(GlobalModelState? global = null, int round = 1) => Context(global, round) with { Layout = TieredLayout };

    private static FleetMember Esp32OnLastLayer(string id = "esp32-1", int examples = 200) => Esp32(id, examples) with { AdaptableLayers = [1] };

    public static TheoryData<string> LoraStrategies => new() { "fedlora_uniform", "fedlora_zeropad", "fedft_h" };

    [Fact]
    public void The_layout_is_the_union_of_the_tiers_and_each_tier_gets_its_own_selection()
    {
        Assert.Equal([.. QueriesAndValues, Fc2], TieredLayout.Projections.Select(p => p.Name));
        Assert.Equal([Fc2], TieredLayout.ProjectionsFor(DeviceTier.L, null).Select(p => p.Name));
        Assert.Equal(QueriesAndValues, TieredLayout.ProjectionsFor(DeviceTier.M, null).Select(p => p.Name));
        Assert.Equal(QueriesAndValues, TieredLayout.ProjectionsFor(DeviceTier.H, null).Select(p => p.Name));
        Assert.Empty(TieredLayout.ProjectionsFor(DeviceTier.L, [0]));
    }

    [Theory]
    [MemberData(nameof(LoraStrategies))]
    public void Every_lora_strategy_plans_each_tier_exactly_its_projections(string strategy)
    {
        var plan = StrategyCatalog.Create(strategy).ConfigureTrain(TieredContext(), [Jetson(), RaspberryPi(), Esp32OnLastLayer(), Esp32("esp32-first-layer")]);

        var byDevice = plan.ToDictionary(i => i.DeviceId);
        Assert.Equal(QueriesAndValues, byDevice["jetson-1"].AssignedProjections.Order(StringComparer.Ordinal));
        Assert.Equal(QueriesAndValues, byDevice["pi-1"].AssignedProjections.Order(StringComparer.Ordinal));
        Assert.Equal([Fc2], byDevice["esp32-1"].AssignedProjections);
        Assert.Equal([0, 1], byDevice["pi-1"].Layers);
        Assert.Equal([1], byDevice["esp32-1"].Layers);
        // An ESP32 that holds only layer 0 has no fc2 of the last block to train there, so it is not planned.
        Assert.False(byDevice.ContainsKey("esp32-first-layer"));
    }

    [Fact]
    public void Fedft_h_aggregates_fc2_from_the_esp32s_only_and_q_and_v_from_the_pi_and_jetson_only()
    {
        var strategy = new FedFtHStrategy();
        var context = TieredContext();
        var plan = strategy.ConfigureTrain(context, [Jetson(), RaspberryPi(), Esp32OnLastLayer("esp32-1", 200), Esp32OnLastLayer("esp32-2", 50)]);
        var replies = plan.Select((instruction, k) => ReplyTo(instruction, examples: 100 * (k + 1), seed: k)).ToArray();

        var result = strategy.AggregateTrain(context, replies, []);

        Assert.Equal(AggregationOutcome.Aggregated, result.Outcome);
        var global = result.Global.Parameters.Adapters;
        Assert.Equal([.. QueriesAndValues, Fc2], TieredLayout.Projections.Select(p => p.Name).Where(global.ContainsKey));
        Assert.Equal(5, global.Count);
        var esp32s = replies.Where(r => r.DeviceId.StartsWith("esp32", StringComparison.Ordinal)).ToArray();
        var agents = replies.Except(esp32s).ToArray();
        // The exact weighted mean over the devices that trained each projection: a weight of any other device would change it.
        Assert.True(RelativeDifference(ExpectedProductMean(Fc2, esp32s), Dense(global[Fc2])) < 1e-5);
        foreach (var name in QueriesAndValues)
            Assert.True(RelativeDifference(ExpectedProductMean(name, agents), Dense(global[name])) < 1e-5, name);
        var contributors = result.Metrics.Projections.ToDictionary(p => p.Projection, p => p.Contributors);
        Assert.Equal(2, contributors[Fc2]);
        Assert.All(QueriesAndValues, name => Assert.Equal(2, contributors[name]));
        // Each device gets back only what it trained.
        Assert.Equal([Fc2], result.Downlinks.Single(d => d.DeviceId == "esp32-2").Parameters.Adapters.Keys);
        Assert.Equal(QueriesAndValues, result.Downlinks.Single(d => d.DeviceId == "pi-1").Parameters.Adapters.Keys.Order(StringComparer.Ordinal));
    }

    [Theory]
    [MemberData(nameof(LoraStrategies))]
    public void Every_lora_strategy_aggregates_a_projection_trained_by_a_subset_over_two_rounds(string name)
    {
        var strategy = StrategyCatalog.Create(name);
        var global = GlobalModelState.Initial;
        for (var round = 1; round <= 2; round++)
        {
            var context = TieredContext(global, round);
            var plan = strategy.ConfigureTrain(context, [Jetson(), RaspberryPi(), Esp32OnLastLayer()]);
            var result = strategy.AggregateTrain(context, plan.Select((instruction, k) => ReplyTo(instruction, 100, (10 * round) + k)).ToArray(), []);

            Assert.Equal(AggregationOutcome.Aggregated, result.Outcome);
            Assert.Empty(result.Rejected);
            var contributors = result.Metrics.Projections.ToDictionary(p => p.Projection, p => p.Contributors);
            Assert.Equal(1, contributors[Fc2]);
            Assert.All(QueriesAndValues, projection => Assert.Equal(2, contributors[projection]));
            global = result.Global;
        }
        Assert.Equal(5, global.Parameters.Adapters.Count);
    }

    [Theory]
    [InlineData("X", "q", "names tier 'X'; the tiers are L, M, H")]
    [InlineData("M", "qkv", "Training:AdaptedProjectionsByTier:M: Adapted projection 'qkv'")]
    [InlineData("L", "blocks.9.fc2", "Training:AdaptedProjectionsByTier:L: Adapted projection 'blocks.9.fc2'")]
    public void A_tier_selection_naming_an_unknown_tier_or_projection_is_refused_with_what_is_wrong(string tier, string projection, string expected)
    {
        var options = new TrainingOptions { AdaptedProjections = ["q", "v"], AdaptedProjectionsByTier = new() { [tier] = [projection] } };

        Assert.Contains(expected, options.AdaptedProjectionsError(new TinyVitConfig()), StringComparison.Ordinal);
        Assert.Null(new TrainingOptions { AdaptedProjectionsByTier = new() { ["L"] = ["blocks.3.fc2"], ["H"] = ["q", "fc1"] } }
            .AdaptedProjectionsError(new TinyVitConfig()));
    }

    /// <summary>Random factors at the instruction's rank for exactly the projections it assigns.</summary>
    private static TrainingReply ReplyTo(TrainingInstruction instruction, int examples, int seed)
    {
        var random = new Random(seed);
        var adapters = instruction.AssignedProjections.ToDictionary(
            name => name, name => RandomFactors(TieredLayout.Projections.Single(p => p.Name == name), instruction.Rank, random), StringComparer.Ordinal);
        return new TrainingReply(instruction.DeviceId, examples, ModelParameters.FromAdapters(adapters), 1000);
    }
}
