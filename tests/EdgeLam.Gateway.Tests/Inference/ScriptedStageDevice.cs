using System.Buffers;
using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using EdgeLam.Contracts.Messages;
using EdgeLam.Contracts.Wire;
using EdgeLam.Gateway.Inference;
using EdgeLam.Gateway.Tests.Rounds;
using EdgeLam.Model.Architecture;
using EdgeLam.Model.Onnx;
using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Protocol;

namespace EdgeLam.Gateway.Tests.Inference;

/// <summary>How a scripted device answers stage tasks.</summary>
public enum StageReplyStyle
{
    /// <summary>MQTT 5: on the request's response topic with its correlation data (the agent).</summary>
    ResponseTopic,
    /// <summary>MQTT 3.1.1: on its own infer/result, correlation id only in the payload (the firmware).</summary>
    PayloadCorrelation,
    /// <summary>Answers like <see cref="ResponseTopic"/> until its quota of tasks is served, then drops off the network (last will) when the next task arrives.</summary>
    Vanish,
    /// <summary>Stays connected and never answers.</summary>
    Silent,
}

/// <summary>
/// A device client over a real MQTT connection that loads deployed ONNX stages in ONNX Runtime, acknowledges them
/// with a measured (or, for misbehaving scripts, claimed) calibration latency, and runs stage tasks.
/// </summary>
public sealed class ScriptedStageDevice : IAsyncDisposable
{
    private readonly IMqttClient _client;
    private readonly string _deviceId;
    private readonly StageReplyStyle _style;
    private readonly TinyVitConfig _config;
    private readonly double? _claimedCalibration;
    private readonly int _servedBeforeVanishing;
    private readonly TimeSpan _replyJitter;
    private readonly Dictionary<string, (string StageId, OnnxStageSession Session)> _loaded = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();
    private int _served;
    private bool _vanished;

    private ScriptedStageDevice(IMqttClient client, string deviceId, StageReplyStyle style, TinyVitConfig config, double? claimedCalibration, int servedBeforeVanishing, TimeSpan replyJitter)
    {
        _servedBeforeVanishing = servedBeforeVanishing;
        _replyJitter = replyJitter;
        _client = client;
        _deviceId = deviceId;
        _style = style;
        _config = config;
        _claimedCalibration = claimedCalibration;
    }

    public int Served => Volatile.Read(ref _served);

    public int TasksReceived => Volatile.Read(ref _received);

    private int _received;

    /// <param name="gateway">The gateway whose broker it connects to.</param>
    /// <param name="deviceId">Its id.</param>
    /// <param name="style">How it answers.</param>
    /// <param name="config">Model shape of the stages it is sent.</param>
    /// <param name="claimedCalibration">Calibration latency to claim instead of measuring.</param>
    /// <param name="servedBeforeVanishing">With <see cref="StageReplyStyle.Vanish"/>: tasks it serves before it drops off.</param>
    /// <param name="replyJitter">Longest random delay before each answer, so that answers to concurrent tasks arrive out of order.</param>
    public static async Task<ScriptedStageDevice> StartAsync(GatewayHarness gateway, string deviceId, StageReplyStyle style, TinyVitConfig config, double? claimedCalibration = null,
        int servedBeforeVanishing = 0, TimeSpan replyJitter = default)
    {
        var client = new MqttClientFactory().CreateMqttClient();
        var version = style == StageReplyStyle.PayloadCorrelation ? MqttProtocolVersion.V311 : MqttProtocolVersion.V500;
        var connected = await client.ConnectAsync(new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", gateway.Port)
            .WithClientId(deviceId).WithCredentials(deviceId, GatewayHarness.DevicePassword).WithProtocolVersion(version)
            .WithWillTopic(Topics.Device(deviceId, DeviceTopic.Status))
            .WithWillPayload(WireMessages.Encode(new DeviceStatus { State = PresenceState.Offline, Reason = "last-will" }))
            .WithWillRetain().Build());
        Assert.Equal(MqttClientConnectResultCode.Success, connected.ResultCode);
        var device = new ScriptedStageDevice(client, deviceId, style, config, claimedCalibration, servedBeforeVanishing, replyJitter);
        client.ApplicationMessageReceivedAsync += e =>
        {
            var message = e.ApplicationMessage;
            var payload = message.Payload.ToArray();
            _ = Task.Run(() => device.OnMessageAsync(message.Topic, payload, message.ResponseTopic, message.CorrelationData));
            return Task.CompletedTask;
        };
        await client.SubscribeAsync(Topics.Device(deviceId, DeviceTopic.Deploy), MqttQualityOfServiceLevel.AtLeastOnce);
        await client.SubscribeAsync(Topics.Device(deviceId, DeviceTopic.InferenceRequest), MqttQualityOfServiceLevel.AtLeastOnce);
        var hello = GatewayHarness.Hello(deviceId, "raspberry-pi-4", DeviceTier.M, 8, Precision.Fp32, Precision.Fp16, Precision.Int8) with { PowerWatts = 6.4, MacsPerSecond = 1e9 };
        await GatewayHarness.PublishAsync(client, Topics.Device(deviceId, DeviceTopic.Hello), WireMessages.Encode(hello));
        return device;
    }

    private async Task OnMessageAsync(string topic, byte[] payload, string? responseTopic, byte[]? correlationData)
    {
        if (!Topics.TryParseDevice(topic, out _, out var leaf)) return;
        if (leaf == DeviceTopic.Deploy) await DeployAsync(payload);
        else if (leaf == DeviceTopic.InferenceRequest) await InferAsync(payload, responseTopic, correlationData);
    }

    private async Task DeployAsync(byte[] payload)
    {
        var deployment = WireMessages.Decode<Deployment>(payload);
        var session = new OnnxStageSession(deployment.InlineModel()!);
        var stage = ModelStage.Parse(deployment.StageId, _config);
        var probe = new float[stage.InputLength(_config)];
        session.Run(probe, stage.InputShape(_config, 1));
        var stopwatch = Stopwatch.StartNew();
        session.Run(probe, stage.InputShape(_config, 1));
        var measured = stopwatch.Elapsed.TotalMilliseconds;
        lock (_gate) _loaded[deployment.VariantId] = (deployment.StageId, session);
        var ack = JsonNode.Parse(WireMessages.Encode(new DeploymentAck
        {
            VariantId = deployment.VariantId,
            StageId = deployment.StageId,
            Outcome = DeploymentOutcome.Loaded,
            MemoryBytes = 3L * deployment.SizeBytes!.Value,
        }))!.AsObject();
        ack[PlacementPlanner.CalibratedLatencyMember] = _claimedCalibration ?? measured;
        await GatewayHarness.PublishAsync(_client, Topics.Device(_deviceId, DeviceTopic.DeployAck), JsonSerializer.SerializeToUtf8Bytes(ack));
    }

    private async Task InferAsync(byte[] payload, string? responseTopic, byte[]? correlationData)
    {
        var received = Interlocked.Increment(ref _received);
        if (_style == StageReplyStyle.Silent) return;
        if (_style == StageReplyStyle.Vanish && received > _servedBeforeVanishing)
        {
            // Drop the connection without DISCONNECT so the broker publishes the last will.
            Volatile.Write(ref _vanished, true);
            _client.Dispose();
            return;
        }

        var request = MessageBundle<InferenceRequestHeader>.Decode(payload);
        var header = request.Header;
        var input = request.Bundle.GetRequired(InferenceRequestHeader.InputFrameName);
        (string StageId, OnnxStageSession Session) loaded;
        lock (_gate) loaded = _loaded[header.VariantId];
        var stage = ModelStage.Parse(loaded.StageId, _config);
        var stopwatch = Stopwatch.StartNew();
        var output = loaded.Session.Run(input.Dequantize(), input.Shape.Select(d => (long)d).ToArray());
        var compute = stopwatch.Elapsed.TotalMilliseconds;
        if (_replyJitter > TimeSpan.Zero) await Task.Delay(Random.Shared.NextDouble() * _replyJitter);
        var result = MessageBundle<InferenceResultHeader>.Create(new InferenceResultHeader
        {
            CorrelationId = header.CorrelationId,
            StageId = header.StageId,
            VariantId = header.VariantId,
            Outcome = InferenceOutcome.Ok,
            ComputeMilliseconds = compute,
            QueueWaitMilliseconds = 0,
            QueueLength = 0,
        }, [new(InferenceResultHeader.OutputFrameName, TensorFrame.FromFloats(output, stage.OutputShape(_config, input.Shape[0]).Select(d => (int)d).ToArray()))]);
        var reply = new MqttApplicationMessageBuilder().WithPayload(result.Encode()).WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce);
        if (_style is StageReplyStyle.ResponseTopic or StageReplyStyle.Vanish)
        {
            Assert.NotNull(responseTopic);
            Assert.NotNull(correlationData);
            reply = reply.WithTopic(responseTopic).WithCorrelationData(correlationData);
        }
        else
        {
            reply = reply.WithTopic(Topics.Device(_deviceId, DeviceTopic.InferenceResult));
        }

        // Counted before the publish: the gateway may finish the request before this publish's acknowledgement returns.
        Interlocked.Increment(ref _served);
        await _client.PublishAsync(reply.Build());
    }

    /// <summary>Drops the connection without DISCONNECT, so the broker publishes the last will (power loss, network gone).</summary>
    public void DropOffNetwork()
    {
        Volatile.Write(ref _vanished, true);
        _client.Dispose();
    }

    public async ValueTask DisposeAsync()
    {
        if (!Volatile.Read(ref _vanished))
        {
            if (_client.IsConnected) await _client.DisconnectAsync();
            _client.Dispose();
        }

        lock (_gate)
        {
            foreach (var (_, session) in _loaded.Values) session.Dispose();
        }
    }
}
