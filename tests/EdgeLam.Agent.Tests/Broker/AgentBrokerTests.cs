using System.Buffers;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using EdgeLam.Agent.Hardware;
using EdgeLam.Agent.Training;
using EdgeLam.Contracts.Messages;
using EdgeLam.Contracts.Wire;
using EdgeLam.Gateway.Broker;
using EdgeLam.Model.Architecture;
using EdgeLam.Model.Data;
using EdgeLam.Model.Lora;
using EdgeLam.Model.Onnx;
using EdgeLam.Model.Training;
using EdgeLam.Model.Variants;
using MQTTnet;

namespace EdgeLam.Agent.Tests.Broker;

public sealed class AgentBrokerTests
{
    private static TrainingAssignment Assignment(int round, Precision precision, int steps = 40) => new()
    {
        Round = round,
        Rank = 4,
        Layers = [0, 1],
        Precision = precision,
        LocalSteps = steps,
        BatchSize = 32,
        LearningRate = 0.01,
        DeadlineUnixMilliseconds = DateTimeOffset.UtcNow.AddMinutes(5).ToUnixTimeMilliseconds(),
        PartitionSeed = 3,
        PartitionIndex = 1,
        PartitionCount = 4,
        DirichletAlpha = 0.5,
    };

    private static BaseModel TinyBase()
    {
        var options = new AgentOptions();
        AgentTestBed.TinyOptions(options);
        return CheckpointBaseModelSource.For(options, AgentData.For(options)).Get(CancellationToken.None);
    }

    private static Dataset Shard(TrainingAssignment assignment)
    {
        var options = new AgentOptions();
        AgentTestBed.TinyOptions(options);
        return AgentData.For(options).Shard(assignment.PartitionSeed, assignment.DirichletAlpha, assignment.PartitionIndex, assignment.PartitionCount);
    }

    private static double MeanLoss(TinyVitModel model, Dataset data)
    {
        int count = Math.Min(512, data.Count);
        var pixels = data.ScaledPixels(0, count);
        var logits = model.Forward(pixels, count);
        var gradient = new float[logits.Length];
        return CrossEntropy.LossAndGradient(logits, data.Labels.AsSpan(0, count), count, model.Config.Classes, count, gradient) / count;
    }

    [Fact]
    public async Task Agent_says_hello_from_its_board_and_keeps_a_retained_online_status()
    {
        await using var bed = await AgentTestBed.StartAsync("pi-1");
        var gateway = await bed.ConnectGatewayAsync();
        var (handle, led, _) = await bed.StartAgentAsync("pi-1", "raspberry-pi-4");

        var hello = WireMessages.Decode<DeviceHello>((await gateway.WaitAsync(GatewayProbe.Device("pi-1", DeviceTopic.Hello))).Payload.ToArray());
        Assert.Equal("pi-1", hello.DeviceId);
        Assert.Equal("raspberry-pi-4", hello.BoardId);
        Assert.Equal(DeviceTier.M, hello.Tier);
        Assert.Equal(8, hello.MaxLoraRank);
        Assert.Contains(Precision.Int8, hello.Precisions);
        var heartbeat = WireMessages.Decode<DeviceHeartbeat>((await gateway.WaitAsync(GatewayProbe.Device("pi-1", DeviceTopic.Heartbeat))).Payload.ToArray());
        Assert.InRange(heartbeat.BusyMilliseconds, 0, heartbeat.IntervalMilliseconds);
        Assert.Null(heartbeat.TemperatureCelsius);

        // A client that subscribes later still sees the device online: the status is retained.
        var late = await bed.ConnectGatewayAsync(GatewayProbe.Device("pi-1", DeviceTopic.Status));
        var status = await late.WaitAsync(GatewayProbe.Device("pi-1", DeviceTopic.Status));
        Assert.True(status.Retain);
        Assert.Equal(PresenceState.Online, WireMessages.Decode<DeviceStatus>(status.Payload.ToArray()).State);
        Assert.Equal(LedPattern.Idle, led.Pattern);

        // An orderly stop replaces it with a retained offline status.
        await handle.DisposeAsync();
        var offline = await gateway.WaitAsync(GatewayProbe.Device("pi-1", DeviceTopic.Status),
            m => WireMessages.Decode<DeviceStatus>(m.Payload.ToArray()).State == PresenceState.Offline);
        Assert.Equal("shutdown", WireMessages.Decode<DeviceStatus>(offline.Payload.ToArray()).Reason);
        Assert.Equal(LedPattern.Off, led.Pattern);
    }

    [Fact]
    public async Task Agent_trains_a_round_and_uploads_fp16_factors_that_lower_the_loss_on_its_shard()
    {
        await using var bed = await AgentTestBed.StartAsync("pi-1");
        var gateway = await bed.ConnectGatewayAsync();
        var (_, led, _) = await bed.StartAgentAsync("pi-1", "raspberry-pi-4");
        await gateway.WaitAsync(GatewayProbe.Device("pi-1", DeviceTopic.Hello));
        var training = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        led.PatternChanged += pattern => { if (pattern == LedPattern.Training) training.TrySetResult(); };

        var assignment = Assignment(1, Precision.Fp16);
        await gateway.PublishAsync(GatewayProbe.Device("pi-1", DeviceTopic.Assign), WireMessages.Encode(assignment));
        var message = await gateway.WaitAsync(GatewayProbe.Device("pi-1", DeviceTopic.Update));
        await training.Task.WaitAsync(AgentTestBed.Timeout);

        var update = MessageBundle<LoraUpdateHeader>.Decode(message.Payload.ToArray());
        Assert.Equal(1, update.Header.Round);
        Assert.Equal(4, update.Header.Rank);
        Assert.Equal(Precision.Fp16, update.Header.Precision);
        Assert.Equal(40, update.Header.LocalSteps);
        Assert.Equal(2 * LoraProjections.All.Count * 2, update.Bundle.Count);
        for (int i = 0; i < update.Bundle.Count; i++)
            Assert.Equal(TensorDataType.Float16, update.Bundle.GetFrame(i).DataType);

        // The uploaded factors, applied to the frozen base, lower the loss on the device's shard.
        var baseModel = TinyBase();
        Assert.Equal(baseModel.Id, update.Header.BaseModelId);
        var adapters = LoraAdapterSet.Create(TinyVitConfig.Tiny, 4, new AgentOptions().LoraAlpha, 0, [0, 1]);
        Assert.Equal(adapters.Adapters.Count, LoraFrames.Import(update.Bundle, adapters));
        var shard = Shard(assignment);
        double before = MeanLoss(new TinyVitModel(baseModel.Weights), shard);
        double after = MeanLoss(new TinyVitModel(baseModel.Weights, adapters), shard);
        Assert.True(after < before, $"loss with the uploaded adapter {after} is not below the base model's {before}");

        // An INT8 assignment gets per-channel int8 frames.
        await gateway.PublishAsync(GatewayProbe.Device("pi-1", DeviceTopic.Assign), WireMessages.Encode(Assignment(2, Precision.Int8, steps: 5)));
        var second = MessageBundle<LoraUpdateHeader>.Decode((await gateway.WaitAsync(GatewayProbe.Device("pi-1", DeviceTopic.Update),
            m => MessageBundle<LoraUpdateHeader>.Decode(m.Payload.ToArray()).Header.Round == 2)).Payload.ToArray());
        Assert.All(Enumerable.Range(0, second.Bundle.Count), i => Assert.Equal(TensorDataType.Int8, second.Bundle.GetFrame(i).DataType));
    }

    [Fact]
    public async Task Agent_trains_every_weight_for_a_full_assignment_and_starts_from_the_global_weights_it_received()
    {
        await using var bed = await AgentTestBed.StartAsync("pi-1");
        var gateway = await bed.ConnectGatewayAsync();
        await bed.StartAgentAsync("pi-1", "raspberry-pi-4");
        await gateway.WaitAsync(GatewayProbe.Device("pi-1", DeviceTopic.Hello));
        var full = Assignment(1, Precision.Fp16, steps: 5) with { Mode = TrainingScope.Full, Rank = 0, LearningRate = 0.001 };

        await gateway.PublishAsync(GatewayProbe.Device("pi-1", DeviceTopic.Assign), WireMessages.Encode(full));
        var update = MessageBundle<LoraUpdateHeader>.Decode((await gateway.WaitAsync(GatewayProbe.Device("pi-1", DeviceTopic.Update))).Payload.ToArray());

        var baseModel = TinyBase();
        var tensors = baseModel.Weights.Tensors().ToArray();
        Assert.Equal((TrainingScope.Full, 0, Precision.Fp16), (update.Header.Mode, update.Header.Rank, update.Header.Precision));
        Assert.Equal(tensors.Length, update.Bundle.Count);
        var trained = baseModel.Weights.Clone();
        FullTrainingJob.Import(update.Bundle, trained);
        // Every weight is trainable: the patch embedding moved, not only the projections LoRA would adapt.
        Assert.NotEqual(baseModel.Weights.PatchEmbedding.W, trained.PatchEmbedding.W);

        // Round 2 starts from the global weights the gateway sent: here all zero biases of the head set to 3.
        var global = baseModel.Weights.Clone();
        Array.Fill(global.Head.B, 3f);
        var frames = global.Tensors().Select(t => new KeyValuePair<string, TensorFrame>(FullWeightFrameName.Of(t.Name), TensorFrame.FromFloats(t.Values, t.Shape))).ToList();
        var header = new AdapterHeader { Mode = TrainingScope.Full, Round = 1, Rank = 0, Layers = [0, 1], Precision = Precision.Fp32, BaseModelId = baseModel.Id };
        await gateway.PublishAsync(GatewayProbe.Device("pi-1", DeviceTopic.Adapter), MessageBundle<AdapterHeader>.Create(header, frames).Encode());
        await gateway.PublishAsync(GatewayProbe.Device("pi-1", DeviceTopic.Assign), WireMessages.Encode(full with { Round = 2, LocalSteps = 1 }));
        var second = MessageBundle<LoraUpdateHeader>.Decode((await gateway.WaitAsync(GatewayProbe.Device("pi-1", DeviceTopic.Update),
            m => MessageBundle<LoraUpdateHeader>.Decode(m.Payload.ToArray()).Header.Round == 2)).Payload.ToArray());
        var head = second.Bundle.GetRequired(FullWeightFrameName.Of("head.bias")).Dequantize();
        Assert.All(head, b => Assert.InRange(b, 2.9f, 3.1f));
    }

    [Fact]
    public void A_full_assignment_is_refused_where_the_model_does_not_fit_or_the_precision_is_missing()
    {
        var esp32 = EdgeLam.Boards.BoardProfileLoader.LoadBuiltIn().Single(b => b.Id == "esp32-wrover");
        var full = Assignment(1, Precision.Fp32) with { Mode = TrainingScope.Full, Rank = 0 };
        Assert.Contains("precision fp32 is not among the board's precisions", FullTrainingJob.Refusal(full, esp32, new TinyVitConfig()), StringComparison.Ordinal);
        var pi = EdgeLam.Boards.BoardProfileLoader.LoadBuiltIn().Single(b => b.Id == "raspberry-pi-4");
        Assert.Null(FullTrainingJob.Refusal(full, pi, new TinyVitConfig()));
    }

    [Fact]
    public async Task Agent_serves_a_deployed_stage_on_the_response_topic_with_the_correlation_data()
    {
        await using var bed = await AgentTestBed.StartAsync("pi-1");
        var baseModel = TinyBase();
        byte[] block = new TinyVitOnnxExporter(baseModel.Weights, ModelVariant.Fp32).ExportBytes(ModelStage.Block(0));
        byte[] head = new TinyVitOnnxExporter(baseModel.Weights, ModelVariant.Fp32).ExportBytes(ModelStage.Head);
        // Room for block0 only: a later variant must be refused with the numbers.
        string board = bed.WriteBoard("raspberry-pi-4", modelBudgetBytes: (3 * block.Length) + (head.Length / 2));
        var gateway = await bed.ConnectGatewayAsync();
        await bed.StartAgentAsync("pi-1", board);
        await gateway.WaitAsync(GatewayProbe.Device("pi-1", DeviceTopic.Hello));
        string ackTopic = GatewayProbe.Device("pi-1", DeviceTopic.DeployAck);

        await gateway.PublishAsync(GatewayProbe.Device("pi-1", DeviceTopic.Deploy), WireMessages.Encode(Deployment.Inline("block0-fp32", "block0", Precision.Fp32, block)));
        var ackMessage = await gateway.WaitAsync(ackTopic, m => m.ConvertPayloadToString().Contains("block0-fp32", StringComparison.Ordinal));
        var ack = WireMessages.Decode<DeploymentAck>(ackMessage.Payload.ToArray());
        Assert.Equal(DeploymentOutcome.Loaded, ack.Outcome);
        Assert.Equal(3L * block.Length, ack.MemoryBytes);
        var extra = JsonNode.Parse(ackMessage.ConvertPayloadToString())!;
        Assert.True((double)extra["calibratedLatencyMilliseconds"]! > 0);
        Assert.Equal("cpu", (string)extra["executionProvider"]!);

        var tokens = new float[TinyVitConfig.Tiny.Tokens * TinyVitConfig.Tiny.ModelDim];
        for (int i = 0; i < tokens.Length; i++) tokens[i] = (float)Math.Cos(i * 0.11);
        var request = MessageBundle<InferenceRequestHeader>.Create(
            new InferenceRequestHeader { CorrelationId = "req-1", StageId = "block0", VariantId = "block0-fp32", DeadlineUnixMilliseconds = DateTimeOffset.UtcNow.AddMinutes(1).ToUnixTimeMilliseconds() },
            [new(InferenceRequestHeader.InputFrameName, TensorFrame.FromFloats(tokens, [1, TinyVitConfig.Tiny.Tokens, TinyVitConfig.Tiny.ModelDim]))]);
        string responseTopic = GatewayProbe.Device("pi-1", DeviceTopic.InferenceResult);
        byte[] correlation = [7, 1, 2, 3];
        await gateway.PublishAsync(GatewayProbe.Device("pi-1", DeviceTopic.InferenceRequest), request.Encode(), responseTopic, correlation);

        var reply = await gateway.WaitAsync(responseTopic);
        Assert.Equal(correlation, reply.CorrelationData);
        var result = MessageBundle<InferenceResultHeader>.Decode(reply.Payload.ToArray());
        Assert.Equal(InferenceOutcome.Ok, result.Header.Outcome);
        Assert.Equal("req-1", result.Header.CorrelationId);
        float[] output = result.Bundle.GetRequired(InferenceResultHeader.OutputFrameName).ToFloatArray();
        float[] expected = new TinyVitModel(baseModel.Weights).BlockForward(0, tokens, 1);
        Assert.Equal(expected.Length, output.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - output[i]) < 1e-3, $"output {i}: {output[i]} vs reference {expected[i]}");

        // A second variant does not fit the budget: refused, with the numbers.
        await gateway.PublishAsync(GatewayProbe.Device("pi-1", DeviceTopic.Deploy), WireMessages.Encode(Deployment.Inline("head-fp32", "head", Precision.Fp32, head)));
        var refused = WireMessages.Decode<DeploymentAck>((await gateway.WaitAsync(ackTopic, m => m.ConvertPayloadToString().Contains("head-fp32", StringComparison.Ordinal))).Payload.ToArray());
        Assert.Equal(DeploymentOutcome.Failed, refused.Outcome);
        Assert.Contains("model memory budget", refused.Error, StringComparison.Ordinal);
        Assert.Contains($"needs {3L * head.Length} bytes", refused.Error, StringComparison.Ordinal);
        Assert.Contains($"{3L * block.Length} of the", refused.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Agent_refuses_a_deployment_whose_sha256_does_not_match_its_bytes()
    {
        await using var bed = await AgentTestBed.StartAsync("pi-1");
        var gateway = await bed.ConnectGatewayAsync();
        var (handle, _, _) = await bed.StartAgentAsync("pi-1", "raspberry-pi-4");
        await gateway.WaitAsync(GatewayProbe.Device("pi-1", DeviceTopic.Hello));
        byte[] model = new TinyVitOnnxExporter(TinyBase().Weights, ModelVariant.Fp32).ExportBytes(ModelStage.Head);
        string wrong = Convert.ToHexStringLower(SHA256.HashData([1, 2, 3]));
        var deployment = Deployment.Inline("head-fp32", "head", Precision.Fp32, model) with { Sha256 = wrong };
        var json = JsonNode.Parse(System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(deployment, WireMessages.TypeInfo<Deployment>()))!;

        await gateway.PublishAsync(GatewayProbe.Device("pi-1", DeviceTopic.Deploy), System.Text.Encoding.UTF8.GetBytes(json.ToJsonString()));
        var ack = WireMessages.Decode<DeploymentAck>((await gateway.WaitAsync(GatewayProbe.Device("pi-1", DeviceTopic.DeployAck))).Payload.ToArray());

        Assert.Equal(DeploymentOutcome.Failed, ack.Outcome);
        Assert.Contains("SHA-256 mismatch", ack.Error, StringComparison.Ordinal);
        Assert.Contains(wrong, ack.Error, StringComparison.Ordinal);
        Assert.Contains(Convert.ToHexStringLower(SHA256.HashData(model)), ack.Error, StringComparison.Ordinal);
        Assert.Empty(handle.Agent.Variants.Variants);
    }

    [Fact]
    public async Task Agent_finishes_a_round_across_a_broker_restart_and_delivers_the_update_after_reconnecting()
    {
        await using var bed = await AgentTestBed.StartAsync("pi-2");
        // Slow enough that the round is still training when the broker goes away (paced, "modelled" board time).
        string board = bed.WriteBoard("raspberry-pi-4", fp32MacsPerSecond: 1.5e8);
        var gateway = await bed.ConnectGatewayAsync();
        var (handle, led, _) = await bed.StartAgentAsync("pi-2", board, pace: true);
        await gateway.WaitAsync(GatewayProbe.Device("pi-2", DeviceTopic.Hello));
        var training = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var trained = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        led.PatternChanged += pattern => { if (pattern == LedPattern.Training) training.TrySetResult(); };
        handle.Agent.RoundTrained += (_, _) => trained.TrySetResult(handle.Agent.Connection.IsConnected);

        await gateway.PublishAsync(GatewayProbe.Device("pi-2", DeviceTopic.Assign), WireMessages.Encode(Assignment(1, Precision.Fp16, steps: 30)));
        await training.Task.WaitAsync(AgentTestBed.Timeout);

        // The new broker refuses the device until the test's gateway client listens again.
        await bed.RestartBrokerAsync(() => bed.Credentials.Revoke("pi-2"));
        bool connectedWhenTrained = await trained.Task.WaitAsync(AgentTestBed.Timeout);
        Assert.False(connectedWhenTrained);
        var again = await bed.ConnectGatewayAsync();
        bed.Credentials.Enroll("pi-2", ClientRole.Device, AgentTestBed.DevicePassword);

        var update = MessageBundle<LoraUpdateHeader>.Decode((await again.WaitAsync(GatewayProbe.Device("pi-2", DeviceTopic.Update))).Payload.ToArray());
        Assert.Equal(1, update.Header.Round);
        await again.WaitAsync(GatewayProbe.Device("pi-2", DeviceTopic.Hello));
    }
}
