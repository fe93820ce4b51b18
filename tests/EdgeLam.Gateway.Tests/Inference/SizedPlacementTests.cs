using EdgeLam.Contracts.Messages;
using EdgeLam.Gateway.Inference;
using EdgeLam.Gateway.Inference.Scheduling;
using EdgeLam.Model.Variants;

namespace EdgeLam.Gateway.Tests.Inference;

public sealed class SizedPlacementTests
{
    private static readonly HashSet<int> AllStages = [0, 1, 2, 3, 4, 5];
    private static readonly HashSet<int> Blocks = [1, 2, 3, 4];

    // Bytes of the demo model's stages: embed, four encoder blocks, head.
    private static readonly double[] Weights = [9, 44, 44, 44, 44, 2];

    private static List<StageHost> DemoFleet()
    {
        // Agents come from the whole layout holding everything; ESP32s stand by and can run the blocks.
        var hosts = new[] { "jetson-1", "jetson-2", "pi-1", "pi-2", "pi-3" }.Select(id => new StageHost(id, AllStages, AllStages.ToHashSet())).ToList();
        hosts.AddRange(new[] { "esp32-1", "esp32-2", "esp32-3" }.Select(id => new StageHost(id, Blocks, Blocks.ToHashSet(), Standby: true)));
        return hosts;
    }

    private static void AssertServedOnReplicas(IReadOnlyDictionary<string, IReadOnlySet<int>> plan, IReadOnlyList<StageHost> hosts, int replicas)
    {
        Assert.All(AllStages, s => Assert.Equal(replicas, plan.Values.Count(held => held.Contains(s))));
        Assert.All(AllStages, s => Assert.Contains(hosts, h => !h.Standby && plan[h.DeviceId].Contains(s)));
    }

    [Fact]
    public void Standby_devices_take_second_replicas_so_that_no_device_holds_two_blocks()
    {
        var hosts = DemoFleet();
        var plan = StageAssignment.Plan(Weights, hosts, replicas: 2);

        AssertServedOnReplicas(plan, hosts, 2);
        Assert.All(plan.Values, held => Assert.True(held.Count(Blocks.Contains) <= 1, string.Join(",", held)));
        // The most loaded device holds one block and the embedding: under a third of the 189-byte model.
        Assert.Equal(44 + 9, plan.Values.Max(held => held.Sum(s => Weights[s])));
    }

    [Fact]
    public void When_an_agent_leaves_its_stages_get_a_serving_holder_again()
    {
        var hosts = DemoFleet();
        var plan = StageAssignment.Plan(Weights, hosts, replicas: 2);
        var left = hosts.First(h => !h.Standby && plan[h.DeviceId].Overlaps(Blocks));
        var remaining = hosts.Where(h => h != left).Select(h => h with { Held = plan[h.DeviceId] }).ToList();

        var replanned = StageAssignment.Plan(Weights, remaining, replicas: 2);

        AssertServedOnReplicas(replanned, remaining, 2);
        Assert.DoesNotContain(left.DeviceId, replanned.Keys);
    }

    [Fact]
    public void A_stage_only_a_standby_device_runs_is_still_held()
    {
        var plan = StageAssignment.Plan([5, 5], [new StageHost("esp32", new HashSet<int> { 0, 1 }, new HashSet<int>(), Standby: true)], replicas: 1);

        Assert.Equal([0, 1], plan["esp32"].Order());
    }

    private static ServicePortfolio Portfolio()
    {
        string[] stages = ["embed", "block0", "head"];
        (ModelVariant Variant, long Bytes, double Accuracy)[] kinds = [(ModelVariant.Fp32, 100, 0.85), (ModelVariant.Fp16, 50, 0.85), (ModelVariant.Int8, 25, 0.84), (ModelVariant.PrunedInt8, 20, 0.82)];
        var variants = stages.SelectMany((stage, i) => kinds.Select(k => new StageVariant(stage, i, k.Variant, k.Bytes, 1000, k.Accuracy)));
        return new ServicePortfolio(stages, variants, 0.85, kinds.ToDictionary(k => k.Variant, k => k.Accuracy));
    }

    [Fact]
    public void The_sized_chain_is_the_smallest_that_keeps_the_accuracy_floor()
    {
        var portfolio = Portfolio();

        var chain = portfolio.SizedChain(0.795);

        // One Pruned-INT8 stage (-3 points) and two INT8 stages (-1 point each) keep 0.80 with 70 bytes; a second Pruned-INT8 would not.
        Assert.Equal(70, chain.Sum(v => v.SizeBytes));
        Assert.True(portfolio.ChainAccuracyEstimate(chain) >= 0.795);
        Assert.Equal(portfolio.Stages, chain.Select(v => v.StageId));
    }

    [Fact]
    public void An_unreachable_floor_keeps_the_most_accurate_chain_and_a_device_gets_only_what_it_runs()
    {
        var portfolio = Portfolio();

        // FP32 and FP16 tie on accuracy; the smaller one is kept.
        Assert.All(portfolio.SizedChain(0.9), v => Assert.Equal(ModelVariant.Fp16, v.Variant));
        Assert.All(portfolio.SizedChain(0.80, [Precision.Int8]), v => Assert.True(v.Variant.IsQuantized(), v.VariantId));
        Assert.All(portfolio.SizedChain(0, [Precision.Int8]), v => Assert.Equal(ModelVariant.PrunedInt8, v.Variant));
    }

    [Fact]
    public void A_standby_pair_serves_only_when_no_pair_that_could_meet_the_budget_is_left()
    {
        var portfolio = Portfolio();
        var head = portfolio.VariantsOf(2).Single(v => v.Variant == ModelVariant.PrunedInt8);
        var agent = new DeviceSnapshot("pi-1", true, [Precision.Fp32, Precision.Fp16, Precision.Int8], 1 << 20, 6.4, 0);
        var mcu = new DeviceSnapshot("esp32-1", true, [Precision.Int8], 1 << 20, 0.2, 0);
        // The agent's backlog is beyond the budget; the idle ESP32's compute alone is fourteen times the budget.
        var busy = new DeviceLoad();
        busy.AddInFlight(900, 3);
        var index = new CandidateIndex(portfolio, [new IndexedPair(head, agent, busy, 1, 6.4), new IndexedPair(head, mcu, new DeviceLoad(), 5600, 1120)]);
        var qos = new QosRequirement(0, TimeSpan.FromMilliseconds(400));

        var slot = index.ChooseDriftPlusPenalty(2, 0, qos, 0, default, 10, new PerformanceWeights(), default, out var relaxed, out _);
        var plain = CandidateFilter.Filter(new StageDecision(portfolio, 2, [], qos, 0, index.Pairs(), default));
        var failover = index.ChooseDriftPlusPenalty(2, 0, qos, 0, default, 10, new PerformanceWeights(), index.ExcludedSlots(new HashSet<string> { "pi-1" }), out var failoverRelaxed, out _);

        Assert.Equal(("pi-1", true), (index.Candidate(slot).Device.DeviceId, relaxed));
        Assert.Equal(["pi-1"], plain.Feasible.Select(p => p.Device.DeviceId));
        Assert.Equal(("esp32-1", true), (index.Candidate(failover).Device.DeviceId, failoverRelaxed));
    }
}
