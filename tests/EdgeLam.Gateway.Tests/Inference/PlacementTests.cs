using EdgeLam.Gateway.Inference;
using EdgeLam.Gateway.Tests.Rounds;
using EdgeLam.Model.Architecture;
using EdgeLam.Model.Data;
using EdgeLam.Model.Onnx;
using EdgeLam.Model.Variants;

namespace EdgeLam.Gateway.Tests.Inference;

public sealed class PlacementTests
{
    private static readonly TinyVitConfig Config = new(ModelDim: 16, Layers: 2, Heads: 2, MlpDim: 32);
    private static readonly Lazy<(IReadOnlyDictionary<ModelVariant, VariantModel> Variants, ServicePortfolio Portfolio, Dataset Test)> Model = new(() =>
    {
        var weights = TinyVitInitializer.Initialize(Config, seed: 11);
        var variants = new Dictionary<ModelVariant, VariantModel> { [ModelVariant.Fp32] = VariantModel.Fp32(weights) };
        var test = FashionMnist.Load().Test.Take(20);
        return (variants, ServicePortfolio.FromModel(variants, VariantAccuracy.Measure(variants, test)), test);
    });

    [Fact]
    public void Stage_assignment_covers_every_stage_with_the_replicas_and_spreads_the_weight()
    {
        var all = new HashSet<int> { 0, 1, 2, 3, 4, 5 };
        double[] weights = [4, 33, 33, 33, 33, 1];
        StageHost Host(string id, params int[] held) => new(id, all, held.ToHashSet());
        var plan = StageAssignment.Plan(weights, [Host("a"), Host("b"), Host("c"), Host("d"), Host("e")], replicas: 2);

        Assert.All(Enumerable.Range(0, 6), s => Assert.Equal(2, plan.Values.Count(held => held.Contains(s))));
        // Eight block copies over five devices: no device holds more than two blocks.
        Assert.All(plan.Values, held => Assert.True(held.Count(s => weights[s] > 10) <= 2, string.Join(",", held)));

        // A device that can run only the head takes nothing else; holdings that still fit are kept.
        var headOnly = new StageHost("mcu", new HashSet<int> { 5 }, new HashSet<int>());
        var kept = StageAssignment.Plan(weights, [.. plan.Select(p => Host(p.Key, [.. p.Value])), headOnly], replicas: 2);
        Assert.True(kept["mcu"].IsSubsetOf([5]));
        Assert.True(plan.Sum(p => p.Value.Intersect(kept[p.Key]).Count()) >= 10);
    }

    [Fact]
    public async Task Placement_follows_devices_that_leave_and_join_keeping_every_stage_on_its_replicas()
    {
        var (variants, portfolio, test) = Model.Value;
        await using var gateway = await GatewayHarness.StartAsync(["a", "b", "c", "d"], new() { ["Inference:StageReplicas"] = "2" });
        var planner = gateway.Get<PlacementPlanner>();
        Assert.Equal(2, planner.StageReplicas);
        await planner.StartAsync(portfolio, new OnnxStageArtifacts(variants));
        await using var a = await ScriptedStageDevice.StartAsync(gateway, "a", StageReplyStyle.ResponseTopic, Config);
        await using var b = await ScriptedStageDevice.StartAsync(gateway, "b", StageReplyStyle.ResponseTopic, Config);
        await using var c = await ScriptedStageDevice.StartAsync(gateway, "c", StageReplyStyle.ResponseTopic, Config);
        await WaitForAsync(planner, () => EveryStageOn(planner, portfolio, 2, ["a", "b", "c"]), "three devices");
        Assert.All(["a", "b", "c"], id => Assert.True(StagesOf(planner, portfolio, id).Count < portfolio.Stages.Count, id));

        c.DropOffNetwork();
        await WaitForAsync(planner, () => EveryStageOn(planner, portfolio, 2, ["a", "b"]), "after c left");
        Assert.DoesNotContain(planner.Placements, p => p.DeviceId == "c");
        var served = await gateway.Get<InferenceOrchestrator>().InferAsync(test.ScaledPixels(0, 1), new QosRequirement(0, TimeSpan.FromSeconds(20)), CancellationToken.None);
        Assert.True(served.Succeeded, served.Failure);

        await using var d = await ScriptedStageDevice.StartAsync(gateway, "d", StageReplyStyle.ResponseTopic, Config);
        await WaitForAsync(planner, () => EveryStageOn(planner, portfolio, 2, ["a", "b", "d"]) && StagesOf(planner, portfolio, "d").Count > 0, "after d joined");
        Assert.All(["a", "b", "d"], id => Assert.True(StagesOf(planner, portfolio, id).Count < portfolio.Stages.Count, id));
    }

    private static HashSet<int> StagesOf(PlacementPlanner planner, ServicePortfolio portfolio, string deviceId) =>
        planner.Placements.Where(p => p.DeviceId == deviceId && p.State == PlacementState.Loaded && portfolio.TryFind(p.VariantId, out _))
            .Select(p => { portfolio.TryFind(p.VariantId, out var v); return v.StageIndex; }).ToHashSet();

    private static bool EveryStageOn(PlacementPlanner planner, ServicePortfolio portfolio, int replicas, string[] devices) =>
        planner.Placements.All(p => p.State == PlacementState.Loaded && devices.Contains(p.DeviceId))
        && Enumerable.Range(0, portfolio.Stages.Count).All(s => devices.Count(id => StagesOf(planner, portfolio, id).Contains(s)) == replicas);

    private static async Task WaitForAsync(PlacementPlanner planner, Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        var changed = new SemaphoreSlim(0);
        void OnChanged(Placement _) => changed.Release();
        planner.PlacementChanged += OnChanged;
        try
        {
            while (!condition())
            {
                var left = deadline - DateTime.UtcNow;
                Assert.True(left > TimeSpan.Zero, $"{what}: placements never settled: {string.Join(", ", planner.Placements)}");
                await changed.WaitAsync(TimeSpan.FromMilliseconds(Math.Min(200, left.TotalMilliseconds)));
            }
        }
        finally
        {
            planner.PlacementChanged -= OnChanged;
        }
    }
}
