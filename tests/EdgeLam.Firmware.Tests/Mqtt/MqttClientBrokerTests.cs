using System.Buffers;
using System.Text;
using EdgeLam.Firmware.Mqtt;
using MQTTnet;
using MQTTnet.Protocol;

namespace EdgeLam.Firmware.Tests.Mqtt;

/// <summary>The firmware's MQTT 3.1.1 client against the gateway's embedded MQTTnet broker and a real mosquitto.</summary>
public sealed class MqttClientBrokerTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    private static Task<TestBroker> StartAsync(string broker) =>
        broker == "embedded" ? TestBroker.StartEmbeddedAsync() : TestBroker.StartMosquittoAsync();

    [Theory]
    [InlineData("embedded")]
    [InlineData("mosquitto")]
    public async Task Device_and_gateway_exchange_qos1_messages_both_ways(string brokerKind)
    {
        await using var broker = await StartAsync(brokerKind);
        using var gateway = await broker.ConnectGatewayAsync();
        var uplink = new TaskCompletionSource<MqttApplicationMessage>(TaskCreationOptions.RunContinuationsAsynchronously);
        gateway.ApplicationMessageReceivedAsync += e =>
        {
            if (e.ApplicationMessage.Topic == "edgelam/v1/devices/esp-1/hello") uplink.TrySetResult(e.ApplicationMessage);
            return Task.CompletedTask;
        };
        await gateway.SubscribeAsync("edgelam/v1/devices/+/hello", MqttQualityOfServiceLevel.AtLeastOnce);

        var handler = new RecordingHandler();
        var device = broker.NewDeviceClient(handler, out var transport);
        using var _ = transport;
        device.Connect(TestBroker.DeviceOptions("esp-1"));
        device.Subscribe(["edgelam/v1/devices/esp-1/#"], [1]);

        var payload = Encoding.UTF8.GetBytes("{\"deviceId\":\"esp-1\"}");
        Assert.NotEqual(0, device.Publish("edgelam/v1/devices/esp-1/hello", payload, 1, false));
        Assert.True(device.WaitForAcknowledgments(5000), device.LastError);
        var received = await uplink.Task.WaitAsync(Wait);
        Assert.Equal(payload, received.Payload.ToArray());

        var command = new byte[70_000];
        new Random(5).NextBytes(command);
        await gateway.PublishAsync(new MqttApplicationMessageBuilder().WithTopic("edgelam/v1/devices/esp-1/assign")
            .WithPayload(command[..40_000]).WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build());
        var message = handler.PollUntil(device, "edgelam/v1/devices/esp-1/assign", Wait);
        Assert.Equal(command[..40_000], message.Payload);
        device.Disconnect();
        Assert.Empty(handler.Losses);
    }

    [Theory]
    [InlineData("embedded")]
    [InlineData("mosquitto")]
    public async Task A_wrong_password_is_refused_with_the_broker_reason(string brokerKind)
    {
        await using var broker = await StartAsync(brokerKind);
        var device = broker.NewDeviceClient(new RecordingHandler(), out var transport);
        using var _ = transport;
        var error = Assert.Throws<MqttConnectionException>(() => device.Connect(TestBroker.DeviceOptions("esp-1", "wrong")));
        Assert.Contains("broker refused the connection", error.Message, StringComparison.Ordinal);
        Assert.False(device.IsConnected);
    }

    [Theory]
    [InlineData("embedded")]
    [InlineData("mosquitto")]
    public async Task An_aborted_device_leaves_its_last_will_and_reconnects_with_its_subscriptions(string brokerKind)
    {
        await using var broker = await StartAsync(brokerKind);
        using var gateway = await broker.ConnectGatewayAsync();
        var will = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        gateway.ApplicationMessageReceivedAsync += e =>
        {
            if (e.ApplicationMessage.Topic == "edgelam/v1/devices/esp-2/status") will.TrySetResult(Encoding.UTF8.GetString(e.ApplicationMessage.Payload.ToArray()));
            return Task.CompletedTask;
        };
        await gateway.SubscribeAsync("edgelam/v1/devices/+/status", MqttQualityOfServiceLevel.AtLeastOnce);

        var handler = new RecordingHandler();
        var device = broker.NewDeviceClient(handler, out var transport);
        using var _ = transport;
        device.Connect(TestBroker.DeviceOptions("esp-2"));
        device.Subscribe(["edgelam/v1/devices/esp-2/#"], [1]);
        device.Abort("network dropped");
        Assert.Contains("last-will", await will.Task.WaitAsync(Wait), StringComparison.Ordinal);

        device.Reconnect();
        Assert.Equal(2, device.ConnectionCount);
        await gateway.PublishAsync(new MqttApplicationMessageBuilder().WithTopic("edgelam/v1/devices/esp-2/deploy")
            .WithPayload("{}"u8.ToArray()).WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build());
        handler.PollUntil(device, "edgelam/v1/devices/esp-2/deploy", Wait);
        device.Disconnect();
    }

    [Fact]
    public async Task A_subscription_outside_the_device_subtree_is_refused_by_the_embedded_broker()
    {
        await using var broker = await TestBroker.StartEmbeddedAsync();
        var device = broker.NewDeviceClient(new RecordingHandler(), out var transport);
        using var _ = transport;
        device.Connect(TestBroker.DeviceOptions("esp-3"));
        var error = Assert.Throws<MqttConnectionException>(() => device.Subscribe(["edgelam/v1/devices/esp-1/#"], [1]));
        Assert.Contains("refused the subscription to 'edgelam/v1/devices/esp-1/#'", error.Message, StringComparison.Ordinal);
        device.Disconnect();
    }
}
