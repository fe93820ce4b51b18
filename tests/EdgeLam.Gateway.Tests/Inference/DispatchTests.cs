using EdgeLam.Gateway.Fleet;
using EdgeLam.Gateway.Inference;
using EdgeLam.Gateway.Tests.Rounds;
using EdgeLam.Model.Architecture;
using EdgeLam.Model.Data;
using EdgeLam.Model.Onnx;
using EdgeLam.Model.Variants;

namespace EdgeLam.Gateway.Tests.Inference;

public sealed class DispatchTests
{
    private static readonly TinyVitConfig Config = new(ModelDim: 16, Layers: 2, Heads: 2, MlpDim: 32);
    private static readonly Lazy<(IReadOnlyDictionary<ModelVariant, VariantModel> Variants, ServicePortfolio Portfolio, Dataset Test)> Model = new(() =>
    {
        var weights = TinyVitInitializer.Initialize(Config, seed: 11);
        var variants = new Dictionary<ModelVariant, VariantModel> { [ModelVariant.Fp32] = VariantModel.Fp32(weights) };
        var test = FashionMnist.Load().Test.Take(100);
        return (variants, ServicePortfolio.FromModel(variants, VariantAccuracy.Measure(variants, test)), test);
    });

    [Fact]
    public async Task Stage_chains_run_across_mqtt5_and_mqtt311_devices_and_match_the_whole_model()
    {
        var (variants, portfolio, test) = Model.Value;
        await using var gateway = await GatewayHarness.StartAsync(["agent-a", "mcu-b"]);
        var planner = gateway.Get<PlacementPlanner>();
        var orchestrator = gateway.Get<InferenceOrchestrator>();
        var artifacts = new OnnxStageArtifacts(variants);
        orchestrator.UseCloudModel(artifacts.WholeFp32Model());
        await planner.StartAsync(portfolio, artifacts);
        await using var agent = await ScriptedStageDevice.StartAsync(gateway, "agent-a", StageReplyStyle.ResponseTopic, Config);
        await using var firmware = await ScriptedStageDevice.StartAsync(gateway, "mcu-b", StageReplyStyle.PayloadCorrelation, Config);
        await WaitForLoadedAsync(planner, 2 * portfolio.Stages.Count);

        using var whole = new OnnxStageSession(artifacts.WholeFp32Model());
        var images = Enumerable.Range(0, 4).Select(i => test.ScaledPixels(i, 1)).ToArray();
        var qos = new QosRequirement(0, TimeSpan.FromSeconds(10));

        var roundRobin = await orchestrator.InferAsync(images[0], qos, InferenceStrategy.RoundRobin, CancellationToken.None);
        Assert.True(roundRobin.Succeeded, roundRobin.Failure);
        Assert.Equal(["agent-a", "mcu-b"], roundRobin.Devices.Order());
        AssertMatchesWholeModel(whole, images[0], roundRobin);

        var pipelined = await Task.WhenAll(images.Select(image => orchestrator.InferAsync(image, qos, InferenceStrategy.DriftPlusPenalty, CancellationToken.None)));
        for (var i = 0; i < images.Length; i++)
        {
            Assert.True(pipelined[i].Succeeded, pipelined[i].Failure);
            AssertMatchesWholeModel(whole, images[i], pipelined[i]);
            Assert.Equal(portfolio.Stages, pipelined[i].Stages.Select(s => s.StageId));
            Assert.All(pipelined[i].Stages, s => Assert.Equal(1, s.Attempts));
        }

        var cloud = await orchestrator.InferAsync(images[1], qos, InferenceStrategy.Cloud, CancellationToken.None);
        Assert.Equal(pipelined[1].Prediction, cloud.Prediction);
        Assert.Equal(80, cloud.ModelledWanMilliseconds);
        Assert.Equal(InferenceOrchestrator.GatewayDeviceId, Assert.Single(cloud.Devices));
        Assert.Equal(6, orchestrator.Records.Count);
        Assert.True(agent.Served + firmware.Served >= 5 * portfolio.Stages.Count);

        var sweep = await TradeoffSweep.RunAsync(orchestrator, images, qos, [0.1, 100], concurrency: 2, CancellationToken.None);
        Assert.Equal([0.1, 100], sweep.Select(p => p.Tradeoff));
        Assert.All(sweep, p => Assert.Equal((images.Length, 0), (p.Requests, p.Failures)));
        Assert.All(sweep, p => Assert.True(p.MeanPenalty > 0 && p.MeanLatencyMilliseconds > 0, p.ToString()));
        Assert.Equal(10, orchestrator.DriftPlusPenalty.Tradeoff);
    }

    [Fact]
    public async Task A_device_that_vanishes_or_stays_silent_has_its_task_re_dispatched_to_another_candidate()
    {
        var (variants, portfolio, test) = Model.Value;
        await using var gateway = await GatewayHarness.StartAsync(["ghost", "silent", "agent-a"], new() { ["Inference:StageTimeout"] = "00:00:01" });
        var planner = gateway.Get<PlacementPlanner>();
        var orchestrator = gateway.Get<InferenceOrchestrator>();
        var registry = gateway.Get<DeviceRegistry>();
        var artifacts = new OnnxStageArtifacts(variants);
        await planner.StartAsync(portfolio, artifacts);
        // Both misbehaving devices claim zero latency, so the greedy policy tries them before the honest one.
        await using var ghost = await ScriptedStageDevice.StartAsync(gateway, "ghost", StageReplyStyle.Vanish, Config, claimedCalibration: 0);
        await using var silent = await ScriptedStageDevice.StartAsync(gateway, "silent", StageReplyStyle.Silent, Config, claimedCalibration: 0);
        await using var agent = await ScriptedStageDevice.StartAsync(gateway, "agent-a", StageReplyStyle.ResponseTopic, Config);
        await WaitForLoadedAsync(planner, 3 * portfolio.Stages.Count);

        var image = test.ScaledPixels(0, 1);
        var result = await orchestrator.InferAsync(image, new QosRequirement(0, TimeSpan.FromSeconds(30)), InferenceStrategy.Greedy, CancellationToken.None);

        Assert.True(result.Succeeded, result.Failure);
        Assert.All(result.Stages, s => Assert.Equal("agent-a", s.DeviceId));
        Assert.Equal(3, result.Stages[0].Attempts);
        Assert.All(result.Stages.Skip(1), s => Assert.Equal(2, s.Attempts));
        Assert.Equal(1, ghost.TasksReceived);
        Assert.Equal(portfolio.Stages.Count, silent.TasksReceived);
        Assert.True(registry.TryGet("ghost", out var vanished) && !vanished.Online);
        Assert.DoesNotContain(planner.Placements, p => p.DeviceId == "ghost");
        using var whole = new OnnxStageSession(artifacts.WholeFp32Model());
        AssertMatchesWholeModel(whole, image, result);
    }

    [Fact]
    public async Task A_device_that_drops_mid_request_hands_the_rest_of_the_chain_to_another_device()
    {
        var (variants, portfolio, test) = Model.Value;
        await using var gateway = await GatewayHarness.StartAsync(["flaky", "steady"]);
        var planner = gateway.Get<PlacementPlanner>();
        var orchestrator = gateway.Get<InferenceOrchestrator>();
        var artifacts = new OnnxStageArtifacts(variants);
        await planner.StartAsync(portfolio, artifacts);
        // The flaky device claims to be far faster, so the scheduler sends it the chain until it drops off after its first stage.
        await using var flaky = await ScriptedStageDevice.StartAsync(gateway, "flaky", StageReplyStyle.Vanish, Config, claimedCalibration: 0, servedBeforeVanishing: 1);
        await using var steady = await ScriptedStageDevice.StartAsync(gateway, "steady", StageReplyStyle.ResponseTopic, Config, claimedCalibration: 50);
        await WaitForLoadedAsync(planner, 2 * portfolio.Stages.Count);

        var image = test.ScaledPixels(3, 1);
        var result = await orchestrator.InferAsync(image, new QosRequirement(0, TimeSpan.FromSeconds(30)), InferenceStrategy.DriftPlusPenalty, CancellationToken.None);

        Assert.True(result.Succeeded, result.Failure);
        Assert.Equal(portfolio.Stages, result.Stages.Select(s => s.StageId));
        Assert.Equal(("flaky", 1), (result.Stages[0].DeviceId, result.Stages[0].Attempts));
        Assert.Equal(("steady", 2), (result.Stages[1].DeviceId, result.Stages[1].Attempts));
        Assert.All(result.Stages.Skip(2), s => Assert.Equal(("steady", 1), (s.DeviceId, s.Attempts)));
        Assert.Equal(2, flaky.TasksReceived);
        Assert.DoesNotContain(planner.Placements, p => p.DeviceId == "flaky");
        using var whole = new OnnxStageSession(artifacts.WholeFp32Model());
        AssertMatchesWholeModel(whole, image, result);
    }

    [Fact]
    public async Task Concurrent_requests_with_distinct_inputs_each_get_the_result_of_their_own_input()
    {
        var (variants, portfolio, test) = Model.Value;
        await using var gateway = await GatewayHarness.StartAsync(["agent-a", "agent-b", "mcu-c"]);
        var planner = gateway.Get<PlacementPlanner>();
        var orchestrator = gateway.Get<InferenceOrchestrator>();
        var artifacts = new OnnxStageArtifacts(variants);
        await planner.StartAsync(portfolio, artifacts);
        var jitter = TimeSpan.FromMilliseconds(8);
        await using var a = await ScriptedStageDevice.StartAsync(gateway, "agent-a", StageReplyStyle.ResponseTopic, Config, replyJitter: jitter);
        await using var b = await ScriptedStageDevice.StartAsync(gateway, "agent-b", StageReplyStyle.ResponseTopic, Config, replyJitter: jitter);
        await using var c = await ScriptedStageDevice.StartAsync(gateway, "mcu-c", StageReplyStyle.PayloadCorrelation, Config, replyJitter: jitter);
        await WaitForLoadedAsync(planner, 3 * portfolio.Stages.Count);

        var images = Enumerable.Range(0, 48).Select(i => test.ScaledPixels(i, 1)).ToArray();
        var qos = new QosRequirement(0, TimeSpan.FromSeconds(30));
        var strategies = new[] { InferenceStrategy.RoundRobin, InferenceStrategy.DriftPlusPenalty };
        var results = await Task.WhenAll(images.Select((image, i) => orchestrator.InferAsync(image, qos, strategies[i % 2], CancellationToken.None)));

        using var whole = new OnnxStageSession(artifacts.WholeFp32Model());
        for (var i = 0; i < images.Length; i++)
        {
            Assert.True(results[i].Succeeded, results[i].Failure);
            Assert.Equal(portfolio.Stages, results[i].Stages.Select(s => s.StageId));
            AssertMatchesWholeModel(whole, images[i], results[i]);
        }

        // Answers arrived out of order on three devices and two protocol versions, and every one found its own task.
        Assert.Equal(3, results.SelectMany(r => r.Devices).Distinct().Count());
        Assert.Equal(0, gateway.Get<StageDispatcher>().UnmatchedResults);
        Assert.Equal(images.Length * portfolio.Stages.Count, a.Served + b.Served + c.Served);
    }

    [Fact]
    public async Task A_request_no_device_can_serve_fails_with_a_reason_naming_the_stage()
    {
        var (variants, portfolio, test) = Model.Value;
        await using var gateway = await GatewayHarness.StartAsync([]);
        var planner = gateway.Get<PlacementPlanner>();
        await planner.StartAsync(portfolio, new OnnxStageArtifacts(variants));
        var result = await gateway.Get<InferenceOrchestrator>().InferAsync(test.ScaledPixels(0, 1), QosRequirement.BestEffort, CancellationToken.None);
        Assert.False(result.Succeeded);
        Assert.Equal(-1, result.Prediction);
        Assert.Contains("stage embed", result.Failure, StringComparison.Ordinal);
        await Assert.ThrowsAsync<ArgumentException>(() => gateway.Get<InferenceOrchestrator>().InferAsync(new float[3], QosRequirement.BestEffort, CancellationToken.None));
    }

    private static void AssertMatchesWholeModel(OnnxStageSession whole, float[] image, InferenceResult result)
    {
        var expected = whole.Run(image, [1, image.Length]);
        Assert.Equal(expected.Length, result.Logits.Count);
        for (var i = 0; i < expected.Length; i++) Assert.Equal(expected[i], result.Logits[i], 3);
        Assert.Equal(Array.IndexOf(expected, expected.Max()), result.Prediction);
    }

    private static async Task WaitForLoadedAsync(PlacementPlanner planner, int count)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        var changed = new SemaphoreSlim(0);
        planner.PlacementChanged += _ => changed.Release();
        while (planner.Placements.Count(p => p.State == PlacementState.Loaded) < count)
        {
            var left = deadline - DateTime.UtcNow;
            Assert.True(left > TimeSpan.Zero, $"only {planner.Placements.Count(p => p.State == PlacementState.Loaded)} of {count} placements loaded: {string.Join(", ", planner.Placements)}");
            await changed.WaitAsync(left);
        }
    }
}
