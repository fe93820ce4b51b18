using System.Security.Cryptography;
using EdgeLam.Contracts.Artifacts;
using EdgeLam.Contracts.Messages;
using EdgeLam.Contracts.Wire;
using EdgeLam.Firmware.Emulator;
using EdgeLam.Firmware.Emulator.Stages;
using EdgeLam.Firmware.Tests.Mqtt;
using EdgeLam.Model.Quantization;
using EdgeLam.Tests.Shared;

namespace EdgeLam.Firmware.Tests.Emulator;

/// <summary>Deployments by url: the download streams in chunks, resumes with a range request, and is verified before loading.</summary>
public sealed class ArtifactDeploymentTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_download_cut_halfway_resumes_with_a_range_request_and_ends_with_the_right_hash()
    {
        var content = new byte[200_000];
        new Random(3).NextBytes(content);
        await using var server = await ArtifactTestServer.StartAsync(content, dropFirstRequests: 1);
        using var fetcher = new HttpArtifactFetcher(TimeSpan.FromSeconds(10));
        var downloader = new ArtifactDownloader(fetcher, 4096, 3);
        var region = new ArtifactBuffer(content.Length);

        await Task.Run(() => downloader.Download(server.Url.AbsoluteUri, content.Length, Convert.ToHexStringLower(SHA256.HashData(content)), region));

        Assert.Equal(content, region.Bytes);
        Assert.Equal((2, 1), (downloader.Attempts, downloader.Resumes));
        var ranges = server.Ranges.ToArray();
        Assert.Equal("", ranges[0]);
        var resumedAt = long.Parse(ranges[1]["bytes=".Length..^1], System.Globalization.CultureInfo.InvariantCulture);
        Assert.Matches("^bytes=[0-9]+-$", ranges[1]);
        Assert.InRange(resumedAt, 1, content.Length / 2);
    }

    [Fact]
    public async Task The_emulated_esp32_loads_a_stage_by_url_after_a_dropped_connection_and_refuses_a_wrong_hash()
    {
        var model = TestModel.Model;
        var blob = Int8StageBlobBuilder.Head(model.Weights, model.Data.Train.ScaledPixels(0, 64), 64);
        await using var server = await ArtifactTestServer.StartAsync(blob, dropFirstRequests: 1);
        await using var broker = await TestBroker.StartEmbeddedAsync();
        using var gateway = await GatewayProbe.AttachAsync(await broker.ConnectGatewayAsync());
        var launch = new EmulatorLaunch
        {
            BoardPath = RegisterTrainInferCycleTests.BoardPath("esp32-wrover"),
            DeviceId = "esp-3",
            BrokerPort = broker.Port,
            Password = TestBroker.DevicePassword,
            PacingTimeScale = 0,
        };
        string Topic(DeviceTopic leaf) => Topics.Device("esp-3", leaf);
        await using var fleet = await EmulatorRunner.StartAsync([launch], model, null, CancellationToken.None);
        await gateway.NextAsync(Topic(DeviceTopic.Hello), Wait);

        await gateway.PublishAsync(Topic(DeviceTopic.Deploy), WireMessages.Encode(Deployment.ByUrl("head-int8", "head", Precision.Int8, server.Url.AbsoluteUri, blob)));
        var loaded = WireMessages.Decode<DeploymentAck>(await gateway.NextAsync(Topic(DeviceTopic.DeployAck), Wait));
        Assert.True(loaded.Outcome == DeploymentOutcome.Loaded, loaded.Error);
        Assert.Equal(2, server.Ranges.Count);
        Assert.StartsWith("bytes=", server.Ranges.Last(), StringComparison.Ordinal);

        var wrong = Convert.ToHexStringLower(SHA256.HashData([1, 2, 3]));
        var tampered = Deployment.ByUrl("head-int8b", "head", Precision.Int8, server.Url.AbsoluteUri, blob) with { Sha256 = wrong };
        await gateway.PublishAsync(Topic(DeviceTopic.Deploy), WireMessages.Encode(tampered));
        var refused = WireMessages.Decode<DeploymentAck>(await gateway.NextAsync(Topic(DeviceTopic.DeployAck), Wait));
        Assert.Equal((DeploymentOutcome.Failed, "head-int8b"), (refused.Outcome, refused.VariantId));
        Assert.Contains($"SHA-256 mismatch: the deployment says {wrong}", refused.Error, StringComparison.Ordinal);
        Assert.Contains(Convert.ToHexStringLower(SHA256.HashData(blob)), refused.Error, StringComparison.Ordinal);
    }
}
