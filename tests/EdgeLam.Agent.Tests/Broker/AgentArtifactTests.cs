using System.Security.Cryptography;
using EdgeLam.Contracts.Messages;
using EdgeLam.Gateway.Api;
using EdgeLam.Gateway.Broker;
using EdgeLam.Gateway.Fleet;
using EdgeLam.Gateway.Hosting;
using EdgeLam.Gateway.Inference;
using EdgeLam.Model.Architecture;
using EdgeLam.Model.Onnx;
using EdgeLam.Model.Variants;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace EdgeLam.Agent.Tests.Broker;

/// <summary>A variant too large to travel inline reaches an agent by url from the real gateway's artifact endpoint.</summary>
public sealed class AgentArtifactTests
{
    private const string DeviceId = "pi-url";

    [Fact]
    public async Task The_gateway_places_a_block_above_the_inline_limit_by_url_and_the_agent_loads_it()
    {
        // A block of the default 64-wide model: well above the 45 KiB that fit inline in an MQTT message.
        byte[] block = new TinyVitOnnxExporter(TinyVitWeights.CreateZero(new TinyVitConfig()), ModelVariant.Fp32).ExportBytes(ModelStage.Block(0));
        Assert.True(block.Length > Deployment.MaxInlineBytes, $"{block.Length} bytes");
        var directory = Directory.CreateTempSubdirectory("edgelam-artifacts-");
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Broker:Port"] = "0",
            ["Broker:CredentialsPath"] = Path.Combine(directory.FullName, "credentials.json"),
            ["Gateway:DatabasePath"] = Path.Combine(directory.FullName, "gateway.db"),
            ["Api:Enabled"] = "true",
            ["Api:Urls"] = "http://127.0.0.1:0",
            ["Api:Token"] = "artifact-test-token-0123456789",
        });
        builder.Logging.ClearProviders();
        builder.Services.AddEdgeLamGateway(builder.Configuration);
        using var gateway = builder.Build();
        gateway.Services.GetRequiredService<CredentialStore>().Enroll(DeviceId, ClientRole.Device, AgentTestBed.DevicePassword);
        await gateway.StartAsync();
        try
        {
            var port = gateway.Services.GetRequiredService<GatewayRuntime>().BrokerPort;
            var online = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            gateway.Services.GetRequiredService<DeviceRegistry>().DeviceOnline += device => online.TrySetResult();
            await using var agent = await AgentRunner.StartAsync(new AgentLaunch("raspberry-pi-4", DeviceId, "127.0.0.1", port, AgentTestBed.DevicePassword)
            {
                Configure = options =>
                {
                    AgentTestBed.TinyOptions(options);
                    options.ArtifactDirectory = Path.Combine(directory.FullName, "downloads");
                },
            });
            await online.Task.WaitAsync(AgentTestBed.Timeout);

            var variant = new StageVariant("block0", 0, ModelVariant.Fp32, block.Length, 1, 0.8);
            var portfolio = new ServicePortfolio(["block0"], [variant], 0.8, new Dictionary<ModelVariant, double> { [ModelVariant.Fp32] = 0.8 });
            var planner = gateway.Services.GetRequiredService<PlacementPlanner>();
            await planner.StartAsync(portfolio, new FixedArtifacts(block));
            await planner.WaitUntilSettledAsync(AgentTestBed.Timeout);

            var placement = Assert.Single(planner.Placements);
            Assert.True(placement.State == PlacementState.Loaded, placement.Error);
            Assert.Equal(3L * block.Length, placement.MemoryBytes);
            Assert.True(gateway.Services.GetRequiredService<ArtifactStore>().TryGet(Convert.ToHexStringLower(SHA256.HashData(block)), out _));
            Assert.NotNull(agent.Agent.Variants.Find("block0-fp32"));
            // The verified download was handed to ONNX Runtime and removed: nothing is left behind on disk.
            Assert.Empty(Directory.EnumerateFiles(Path.Combine(directory.FullName, "downloads"), "*", SearchOption.AllDirectories));
        }
        finally
        {
            await gateway.StopAsync();
            directory.Delete(recursive: true);
        }
    }

    private sealed class FixedArtifacts(byte[] artifact) : IStageArtifacts
    {
        public byte[]? ArtifactFor(StageVariant variant, DeviceTier tier) => artifact;
    }
}
