using EdgeLam.Contracts.Messages;
using EdgeLam.Contracts.Wire;
using EdgeLam.Firmware.Emulator;
using EdgeLam.Model.Quantization;
using EdgeLam.Firmware.Tests.Mqtt;
using EdgeLam.Model.Architecture;

namespace EdgeLam.Firmware.Tests.Emulator;

/// <summary>An emulated ESP32 against the real in-process broker, with a test client in the gateway's role.</summary>
public sealed class RegisterTrainInferCycleTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    public static string BoardPath(string boardId)
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            var path = Path.Combine(directory.FullName, "hardware", "boards", boardId + ".json");
            if (File.Exists(path)) return path;
        }

        throw new FileNotFoundException($"hardware/boards/{boardId}.json not found above {AppContext.BaseDirectory}");
    }

    [Fact]
    public async Task A_device_registers_trains_deploys_answers_inference_and_leaves_offline()
    {
        var model = TestModel.Model;
        var config = model.Weights.Config;
        await using var broker = await TestBroker.StartEmbeddedAsync();
        using var gateway = await GatewayProbe.AttachAsync(await broker.ConnectGatewayAsync());
        var launch = new EmulatorLaunch
        {
            BoardPath = BoardPath("esp32-wrover"),
            DeviceId = "esp-1",
            BrokerPort = broker.Port,
            Password = TestBroker.DevicePassword,
            MaximumShardImages = 96,
            PacingTimeScale = 0,
            HeartbeatIntervalMilliseconds = 200,
        };
        string Topic(DeviceTopic leaf) => Topics.Device("esp-1", leaf);

        await using (var fleet = await EmulatorRunner.StartAsync([launch], model, null, CancellationToken.None))
        {
            var hello = WireMessages.Decode<DeviceHello>(await gateway.NextAsync(Topic(DeviceTopic.Hello), Wait));
            Assert.Equal((DeviceTier.L, 4, "esp32-wrover"), (hello.Tier, hello.MaxLoraRank, hello.BoardId));
            Assert.Equal(PresenceState.Online, WireMessages.Decode<DeviceStatus>(await gateway.NextAsync(Topic(DeviceTopic.Status), Wait)).State);
            WireMessages.Decode<DeviceHeartbeat>(await gateway.NextAsync(Topic(DeviceTopic.Heartbeat), Wait));

            var assignment = new TrainingAssignment
            {
                Round = 1, Rank = 4, Layers = [config.Layers - 1], Precision = Precision.Int8, LocalSteps = 12, BatchSize = 16,
                LearningRate = 0.05, DeadlineUnixMilliseconds = DateTimeOffset.UtcNow.AddMinutes(5).ToUnixTimeMilliseconds(),
                PartitionSeed = 7, PartitionIndex = 1, PartitionCount = 4, DirichletAlpha = 0.5,
            };
            await gateway.PublishAsync(Topic(DeviceTopic.Assign), WireMessages.Encode(assignment));
            var update = MessageBundle<LoraUpdateHeader>.Decode(await gateway.NextAsync(Topic(DeviceTopic.Update), Wait));
            Assert.Equal((1, 4, Precision.Int8, model.BaseModelId), (update.Header.Round, update.Header.Rank, update.Header.Precision, update.Header.BaseModelId));
            Assert.Equal(TensorDataType.Int8, update.Bundle.GetRequired($"layers.{config.Layers - 1}.fc2.b").DataType);

            // A full-model round does not fit an ESP32: the firmware declines it with the reason and keeps serving.
            await gateway.PublishAsync(Topic(DeviceTopic.Assign), WireMessages.Encode(assignment with { Round = 2, Mode = TrainingScope.Full, Rank = 0, Precision = Precision.Fp32 }));

            var blob = Int8StageBlobBuilder.Head(model.Weights, model.Data.Train.ScaledPixels(0, 128), 128);
            await gateway.PublishAsync(Topic(DeviceTopic.Deploy), WireMessages.Encode(Deployment.Inline("head-int8", "head", Precision.Int8, blob)));
            var ack = WireMessages.Decode<DeploymentAck>(await gateway.NextAsync(Topic(DeviceTopic.DeployAck), Wait));
            Assert.True(ack.Outcome == DeploymentOutcome.Loaded, ack.Error);
            Assert.Contains("declined full-model round 2", fleet.Devices[0].Firmware.LastError, StringComparison.Ordinal);

            var reference = new TinyVitModel(model.Weights);
            var activations = reference.NewActivations(1);
            reference.ForwardGroup(model.Data.Test.ScaledPixels(0, 1), 1, activations);
            var input = TensorFrame.FromFloatArray(activations.BlockInputs[config.Layers], [1, config.Tokens, config.ModelDim], TensorDataType.Float32);
            var request = MessageBundle<InferenceRequestHeader>.Create(new InferenceRequestHeader
            {
                CorrelationId = "req-42", StageId = "head", VariantId = "head-int8",
                DeadlineUnixMilliseconds = DateTimeOffset.UtcNow.AddMinutes(1).ToUnixTimeMilliseconds(),
            }, [new(InferenceRequestHeader.InputFrameName, input)]);
            await gateway.PublishAsync(Topic(DeviceTopic.InferenceRequest), request.Encode());
            var result = MessageBundle<InferenceResultHeader>.Decode(await gateway.NextAsync(Topic(DeviceTopic.InferenceResult), Wait));
            Assert.Equal(("req-42", InferenceOutcome.Ok), (result.Header.CorrelationId, result.Header.Outcome));
            // Modelled compute time: the head's MACs at the profile's 100 000 int8 MAC/s.
            Assert.Equal(Math.Ceiling(config.ModelDim * config.Classes / 100.0), result.Header.ComputeMilliseconds);
            var logits = result.Bundle.GetRequired("output").ToInt8Array().Select(v => (float)v).ToArray();
            Assert.Equal(TinyVitModel.ArgMax(activations.Logits, 1, config.Classes), TinyVitModel.ArgMax(logits, 1, config.Classes));

            var unknown = MessageBundle<InferenceRequestHeader>.Create(request.Header with { CorrelationId = "req-43", StageId = "block0", VariantId = "block0-int8" },
                [new(InferenceRequestHeader.InputFrameName, input)]);
            await gateway.PublishAsync(Topic(DeviceTopic.InferenceRequest), unknown.Encode());
            var failed = MessageBundle<InferenceResultHeader>.Decode(await gateway.NextAsync(Topic(DeviceTopic.InferenceResult), Wait));
            Assert.Equal(InferenceOutcome.Failed, failed.Header.Outcome);
            Assert.Contains("not loaded", failed.Header.Error, StringComparison.Ordinal);
        }

        var offline = WireMessages.Decode<DeviceStatus>(await gateway.NextAsync(Topic(DeviceTopic.Status), Wait));
        Assert.Equal((PresenceState.Offline, "shutdown"), (offline.State, offline.Reason));
    }

    [Fact]
    public async Task A_round_continues_from_the_adapter_the_gateway_sent_for_it()
    {
        var model = TestModel.Model;
        var config = model.Weights.Config;
        int layer = config.Layers - 1, rank = 4;
        await using var broker = await TestBroker.StartEmbeddedAsync();
        using var gateway = await GatewayProbe.AttachAsync(await broker.ConnectGatewayAsync());
        var launch = new EmulatorLaunch
        {
            BoardPath = BoardPath("esp32-wrover"), DeviceId = "esp-3", BrokerPort = broker.Port, Password = TestBroker.DevicePassword,
            MaximumShardImages = 32, PacingTimeScale = 0, HeartbeatIntervalMilliseconds = 200,
        };
        string Topic(DeviceTopic leaf) => Topics.Device("esp-3", leaf);
        await using var fleet = await EmulatorRunner.StartAsync([launch], model, null, CancellationToken.None);
        await gateway.NextAsync(Topic(DeviceTopic.Hello), Wait);

        var random = new Random(5);
        var startA = Enumerable.Range(0, rank * config.MlpDim).Select(_ => (float)(random.NextDouble() - 0.5)).ToArray();
        var startB = Enumerable.Range(0, config.ModelDim * rank).Select(_ => (float)(random.NextDouble() - 0.5)).ToArray();
        var adapter = MessageBundle<AdapterHeader>.Create(
            new AdapterHeader { Round = 2, Rank = rank, Layers = [layer], Precision = Precision.Int8, BaseModelId = model.BaseModelId },
            [
                new(LoraFrameName.Of(layer, "fc2", isA: true), TensorFrame.QuantizePerChannel(startA, [rank, config.MlpDim], 0)),
                new(LoraFrameName.Of(layer, "fc2", isA: false), TensorFrame.QuantizePerChannel(startB, [config.ModelDim, rank], 0)),
            ]);
        await gateway.PublishAsync(Topic(DeviceTopic.Adapter), adapter.Encode());
        // A learning rate of 1e-12 leaves the factors where the round started, so the upload shows the start.
        var assignment = new TrainingAssignment
        {
            Round = 3, Rank = rank, Layers = [layer], Precision = Precision.Int8, LocalSteps = 1, BatchSize = 8,
            LearningRate = 1e-12, DeadlineUnixMilliseconds = DateTimeOffset.UtcNow.AddMinutes(5).ToUnixTimeMilliseconds(),
            PartitionSeed = 7, PartitionIndex = 0, PartitionCount = 4, DirichletAlpha = 0.5,
        };
        await gateway.PublishAsync(Topic(DeviceTopic.Assign), WireMessages.Encode(assignment));
        var update = MessageBundle<LoraUpdateHeader>.Decode(await gateway.NextAsync(Topic(DeviceTopic.Update), Wait));

        var uploadedA = update.Bundle.GetRequired(LoraFrameName.Of(layer, "fc2", isA: true)).Dequantize();
        var uploadedB = update.Bundle.GetRequired(LoraFrameName.Of(layer, "fc2", isA: false)).Dequantize();
        // Two int8 round trips (per-channel down, per-tensor up) cost at most a few steps of 0.5/127.
        Assert.All(startA.Zip(uploadedA), pair => Assert.InRange(pair.Second - pair.First, -0.02f, 0.02f));
        Assert.All(startB.Zip(uploadedB), pair => Assert.InRange(pair.Second - pair.First, -0.02f, 0.02f));
    }

    [Fact]
    public async Task A_deployment_that_breaks_the_board_budget_is_refused_with_the_numbers()
    {
        var model = TestModel.Model;
        var directory = Directory.CreateTempSubdirectory("edgelam-board-");
        try
        {
            // The WROVER profile with a 512-byte model budget: the tiny head (about 1 KiB planned) no longer fits.
            var profile = File.ReadAllText(BoardPath("esp32-wrover")).Replace("\"modelBudgetBytes\": { \"value\": 1048576", "\"modelBudgetBytes\": { \"value\": 512", StringComparison.Ordinal);
            var boardPath = Path.Combine(directory.FullName, "esp32-wrover.json");
            File.WriteAllText(boardPath, profile);
            await using var broker = await TestBroker.StartEmbeddedAsync();
            using var gateway = await GatewayProbe.AttachAsync(await broker.ConnectGatewayAsync());
            var launch = new EmulatorLaunch { BoardPath = boardPath, DeviceId = "esp-2", BrokerPort = broker.Port, Password = TestBroker.DevicePassword, PacingTimeScale = 0 };
            await using var fleet = await EmulatorRunner.StartAsync([launch], model, null, CancellationToken.None);

            var blob = Int8StageBlobBuilder.Head(model.Weights, model.Data.Train.ScaledPixels(0, 8), 8);
            await gateway.PublishAsync(Topics.Device("esp-2", DeviceTopic.Deploy), WireMessages.Encode(Deployment.Inline("head-int8", "head", Precision.Int8, blob)));
            var ack = WireMessages.Decode<DeploymentAck>(await gateway.NextAsync(Topics.Device("esp-2", DeviceTopic.DeployAck), Wait));
            Assert.Equal(DeploymentOutcome.Failed, ack.Outcome);
            Assert.Matches(@"^stage head int8 needs \d+ bytes RAM, board esp32-wrover allows 512 bytes$", ack.Error);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }
}
