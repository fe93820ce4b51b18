using EdgeLam.Contracts.Messages;
using EdgeLam.Firmware.Emulator;
using EdgeLam.Firmware.Memory;
using EdgeLam.Firmware.Stages;
using EdgeLam.Gateway.Inference;
using EdgeLam.Gateway.Tests.Rounds;
using EdgeLam.Model.Architecture;
using EdgeLam.Model.Data;
using EdgeLam.Model.Onnx;
using EdgeLam.Model.Variants;

namespace EdgeLam.Gateway.Tests.Inference;

/// <summary>The gateway places INT8 / Pruned-INT8 stage blobs on ESP32s within the firmware's memory plan, and an emulated ESP32 serves them.</summary>
public sealed class McuPlacementTests
{
    private static readonly TinyVitConfig Config = new(ModelDim: 16, Layers: 2, Heads: 2, MlpDim: 32);
    private static readonly Lazy<(FashionMnistData Data, TinyVitWeights Weights, IReadOnlyDictionary<ModelVariant, VariantModel> Variants, ServicePortfolio Portfolio, IStageArtifacts Artifacts)> Model = new(() =>
    {
        var data = FashionMnist.Load();
        var weights = TinyVitInitializer.Initialize(Config, seed: 11);
        var calibration = data.Train.Take(64);
        var pixels = calibration.ScaledPixels(0, calibration.Count);
        var options = new VariantBuildOptions { CalibrationImages = calibration.Count };
        var variants = new Dictionary<ModelVariant, VariantModel>
        {
            [ModelVariant.Fp32] = VariantModel.Fp32(weights),
            [ModelVariant.Int8] = VariantModel.Int8(weights, pixels, calibration.Count, options),
            [ModelVariant.PrunedInt8] = VariantModel.PrunedInt8(weights, pixels, calibration.Count, options),
        };
        var pipeline = ModelStage.Pipeline(Config);
        // Accuracy figures are placeholders of the right order: placement and serving do not depend on them.
        var entries = variants.SelectMany(pair => pipeline.Select((stage, i) => new StageVariant(stage.Name, i, pair.Key, pair.Value.SerializedBytes(stage),
            ServicePortfolio.StageMacsPerImage(Config, stage, pair.Value.MlpSparsity), pair.Key == ModelVariant.Fp32 ? 0.8 : 0.79)));
        var portfolio = new ServicePortfolio(pipeline.Select(s => s.Name).ToArray(), entries, 0.8, variants.ToDictionary(p => p.Key, _ => 0.8));
        var artifacts = new ArtifactsWithFallback(new McuStageArtifacts(variants, pixels, calibration.Count), new OnnxStageArtifacts(variants));
        return (data, weights, variants, portfolio, artifacts);
    });

    [Fact]
    public void An_esp32_gets_one_integer_variant_per_stage_within_the_firmware_memory_plan_and_a_small_one_gets_what_fits()
    {
        var (_, _, _, portfolio, artifacts) = Model.Value;
        var esp32 = GatewayHarness.Hello("esp32-a", "esp32-wrover", DeviceTier.L, 4, Precision.Int8) with { MemoryBytes = 1 << 20 };
        var plan = PlacementPlanner.Plan(portfolio, artifacts, esp32);
        Assert.Equal(portfolio.Stages.Order(StringComparer.Ordinal), plan.Select(p => p.Variant.StageId).Order(StringComparer.Ordinal));
        Assert.All(plan, p => Assert.True(p.Variant.Variant.IsQuantized()));
        Assert.All(plan, p => Assert.Equal(p.Variant.StageId, Int8StageBlob.Decode(p.Artifact).Shape.StageId));
        // Blocks take the smaller Pruned-INT8 blob.
        Assert.All(plan.Where(p => p.Variant.StageId.StartsWith("block", StringComparison.Ordinal)), p => Assert.Equal(ModelVariant.PrunedInt8, p.Variant.Variant));

        var device = new DeviceMemoryPlan(new MemoryBudget("esp32-wrover", 1 << 20, 1 << 22, 1));
        foreach (var (_, artifact) in plan) device.Admit(StageMemoryPlan.ForInt8(Int8StageBlob.Decode(artifact).Shape, artifact.Length));
        var embedAndHead = plan.Where(p => p.Variant.StageId is "embed" or "head")
            .Sum(p => StageMemoryPlan.ForInt8(Int8StageBlob.Decode(p.Artifact).Shape, 0).WeightBytes);
        var small = esp32 with { MemoryBytes = embedAndHead + 4096 };
        var smallPlan = PlacementPlanner.Plan(portfolio, artifacts, small);
        Assert.NotEmpty(smallPlan);
        Assert.True(smallPlan.Count < plan.Count);
        var smallDevice = McuMemory.PlanFor(small);
        Assert.All(smallPlan, p => Assert.True(McuMemory.TryAdmit(smallDevice, p.Artifact)));
        Assert.True(smallDevice.PeakRamBytes <= small.MemoryBytes);
        Assert.Empty(PlacementPlanner.OversizedForInline(portfolio, artifacts, esp32));
        Assert.Equal(portfolio.All.Count(v => v.Variant.IsQuantized()), PlacementPlanner.OversizedForInline(portfolio, new HugeArtifacts(), esp32).Count);
    }

    [Fact]
    public async Task An_emulated_esp32_loads_its_placements_reports_calibrated_latency_and_serves_a_whole_request()
    {
        var (data, weights, _, portfolio, artifacts) = Model.Value;
        await using var gateway = await GatewayHarness.StartAsync(["esp32-a"]);
        var planner = gateway.Get<PlacementPlanner>();
        var orchestrator = gateway.Get<InferenceOrchestrator>();
        await planner.StartAsync(portfolio, artifacts);
        var launch = new EmulatorLaunch
        {
            BoardPath = BoardPath(), DeviceId = "esp32-a", BrokerPort = gateway.Port, Password = GatewayHarness.DevicePassword,
            PacingTimeScale = 0, ModelConfig = Config, MaximumShardImages = 16,
        };
        await using var fleet = await EmulatorRunner.StartAsync([launch], new EmulatorModel(weights, "test-model", data, 64), null, CancellationToken.None);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (planner.Placements.Count(p => p.State == PlacementState.Loaded) < portfolio.Stages.Count)
        {
            Assert.True(DateTime.UtcNow < deadline, string.Join(", ", planner.Placements));
            await Task.Delay(50);
        }

        var performance = gateway.Get<ServicePerformance>();
        foreach (var placement in planner.Placements)
        {
            Assert.True(portfolio.TryFind(placement.VariantId, out var variant));
            var latency = performance.Latency(variant, "esp32-a", 1e9);
            Assert.Equal(LatencySource.Calibration, latency.Source);
            // Paced to the profile: the stage's MACs at 100 000 int8 MAC/s, whole milliseconds.
            Assert.Equal(Math.Ceiling(variant.MacsPerImage / 100.0), latency.Milliseconds);
        }

        // With no agent online, the standby ESP32 is the only device that can hold a stage, so it holds every one.
        await planner.UseStageReplicasAsync(1);
        Assert.Equal(portfolio.Stages.Count, planner.Placements.Count(p => p.State == PlacementState.Loaded));

        var result = await orchestrator.InferAsync(data.Test.ScaledPixels(0, 1), new QosRequirement(0, TimeSpan.FromMinutes(1)), InferenceStrategy.DriftPlusPenalty, CancellationToken.None);
        Assert.True(result.Succeeded, result.Failure);
        Assert.Equal(["esp32-a"], result.Devices);
        Assert.Equal(portfolio.Stages, result.Stages.Select(s => s.StageId));
        Assert.InRange(result.Prediction, 0, Config.Classes - 1);
    }

    private static string BoardPath()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            var path = Path.Combine(directory.FullName, "hardware", "boards", "esp32-wrover.json");
            if (File.Exists(path)) return path;
        }

        throw new FileNotFoundException("hardware/boards/esp32-wrover.json not found");
    }

    private sealed class HugeArtifacts : IStageArtifacts
    {
        public byte[]? ArtifactFor(StageVariant variant, DeviceTier tier) => variant.Variant.IsQuantized() ? new byte[Deployment.MaxInlineBytes + 1] : null;
    }
}
