using System.Text;
using EdgeLam.Cli.Monitoring;
using EdgeLam.Contracts.Messages;
using EdgeLam.Contracts.Wire;
using EdgeLam.Gateway.Broker;
using EdgeLam.Gateway.Fleet;
using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Protocol;

namespace EdgeLam.Cli.Tests.Monitoring;

/// <summary>The monitor against a live gateway broker: a device's hello, an update bundle, and the gateway's rejection of it, decoded.</summary>
public sealed class TrafficMonitorTests
{
    private const string DeviceId = "pi-watched";
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task Monitor_shows_a_hello_as_json_an_update_as_frames_and_highlights_the_rejection()
    {
        await using var gateway = await TestGateway.StartAsync([DeviceId]);
        var output = new StringWriter();
        var defaults = new BrokerOptions();
        await using var monitor = new TrafficMonitor(new MonitorOptions("127.0.0.1", gateway.BrokerPort, defaults.GatewayUser, defaults.GatewayPassword), output);
        var rejected = new TaskCompletionSource<DecodedMessage>(TaskCreationOptions.RunContinuationsAsynchronously);
        monitor.MessageShown += message =>
        {
            if (message.IsRejection && message.Topic == Topics.Device(DeviceId, DeviceTopic.Rejected)) rejected.TrySetResult(message);
        };
        await monitor.StartAsync(CancellationToken.None);

        using var device = await gateway.ConnectDeviceAsync(DeviceId);
        var registered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        gateway.Get<DeviceRegistry>().DeviceOnline += _ => registered.TrySetResult();
        await Publish(device, Topics.Device(DeviceId, DeviceTopic.Hello), WireMessages.Encode(TestGateway.Hello(DeviceId)));
        await registered.Task.WaitAsync(Patience);
        // No round runs: the gateway answers the update with a not-assigned rejection.
        await Publish(device, Topics.Device(DeviceId, DeviceTopic.Update), Update());
        var rejection = await rejected.Task.WaitAsync(Patience);

        var text = output.ToString();
        Assert.Contains($"{Topics.Device(DeviceId, DeviceTopic.Hello)} json", text, StringComparison.Ordinal);
        Assert.Contains($"\"deviceId\": \"{DeviceId}\"", text, StringComparison.Ordinal);
        Assert.Contains($"{Topics.Device(DeviceId, DeviceTopic.Update)} bundle, 2 frames", text, StringComparison.Ordinal);
        Assert.Contains("layers.1.fc2.a: i8 [2,32], 64 bytes, per-channel axis 0, 2 scales 0.01..0.02", text, StringComparison.Ordinal);
        Assert.Contains("layers.1.fc2.b: i8 [16,2], 32 bytes, per-channel axis 0, 16 scales", text, StringComparison.Ordinal);
        Assert.Contains("\"sampleCount\": 64", text, StringComparison.Ordinal);
        Assert.StartsWith("REJECTED (not-assigned)", rejection.Headline, StringComparison.Ordinal);
        Assert.Contains($"{Topics.Device(DeviceId, DeviceTopic.Rejected)} REJECTED (not-assigned)", text, StringComparison.Ordinal);
        Assert.Contains("\"rejectedTopic\": \"" + Topics.Device(DeviceId, DeviceTopic.Update) + "\"", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Undecodable_payloads_and_long_strings_are_shown_without_failing()
    {
        var garbage = TrafficDecoder.Decode("edgelam/v1/devices/x/update", [0x45, 0x4C, 0x54, 0x42, 9]);
        Assert.Equal(PayloadKind.Undecodable, garbage.Kind);
        Assert.StartsWith("undecodable bundle, 5 bytes: Truncated", garbage.Headline, StringComparison.Ordinal);
        Assert.Equal(PayloadKind.Undecodable, TrafficDecoder.Decode("edgelam/v1/gateway/events", "{ not json"u8.ToArray()).Kind);

        var deploy = Deployment.Inline("head-int8", "head", Precision.Int8, new byte[3000]);
        var shown = TrafficDecoder.Decode(Topics.Device("esp-1", DeviceTopic.Deploy), WireMessages.Encode(deploy));
        Assert.Contains(shown.Details, line => line.Contains("(4000 characters)", StringComparison.Ordinal));
        Assert.Throws<ArgumentException>(() => new MonitorOptions("127.0.0.1", 1883, "gateway", "x", "other/#").Validate());
        Assert.Throws<ArgumentException>(() => new MonitorOptions("127.0.0.1", 1883, "gateway", "x", "edgelam/v1/#/x").Validate());
    }

    private static byte[] Update()
    {
        var header = new LoraUpdateHeader
        {
            Round = 3, Rank = 2, Layers = [1], Precision = Precision.Int8, SampleCount = 64, LocalSteps = 4, TrainingLoss = 0.5, BaseModelId = "tinyvit-base",
        };
        var a = TensorFrame.FromInt8(new sbyte[2 * 32], [2, 32], QuantizationKind.PerChannel, 0, [0.01f, 0.02f], [0, 0]);
        var b = TensorFrame.FromInt8(new sbyte[16 * 2], [16, 2], QuantizationKind.PerChannel, 0, Enumerable.Repeat(0.05f, 16).ToArray(), new int[16]);
        return MessageBundle<LoraUpdateHeader>.Create(header, [new("layers.1.fc2.a", a), new("layers.1.fc2.b", b)]).Encode();
    }

    private static Task<MqttClientPublishResult> Publish(IMqttClient client, string topic, byte[] payload) =>
        client.PublishAsync(new MqttApplicationMessageBuilder().WithTopic(topic).WithPayload(payload).WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build());
}
