using System.Buffers;
using System.Text;
using EdgeLam.Contracts.Messages;
using EdgeLam.Contracts.Wire;
using EdgeLam.Gateway.Broker;
using MQTTnet;
using MQTTnet.Protocol;

namespace EdgeLam.Gateway.Tests.Broker;

public sealed class EmbeddedBrokerTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Anonymous_and_wrong_password_clients_are_refused()
    {
        await using var fixture = await BrokerFixture.StartAsync();
        using var client = new MqttClientFactory().CreateMqttClient();

        Assert.Equal(MqttClientConnectResultCode.BadUserNameOrPassword,
            await ConnectResultAsync(client, BrokerFixture.ClientOptions(fixture.Broker.Port, "pi-1", null, null)));
        Assert.Equal(MqttClientConnectResultCode.BadUserNameOrPassword,
            await ConnectResultAsync(client, BrokerFixture.ClientOptions(fixture.Broker.Port, "pi-1", "pi-1", "wrong-password")));
        Assert.Contains(fixture.Refusals, r => r.Reason.Contains("anonymous", StringComparison.Ordinal));
        Assert.Contains(fixture.Refusals, r => r.Reason.Contains("bad username or password for 'pi-1'", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_device_must_use_its_own_id_as_client_id()
    {
        await using var fixture = await BrokerFixture.StartAsync();
        using var client = new MqttClientFactory().CreateMqttClient();
        Assert.Equal(MqttClientConnectResultCode.ClientIdentifierNotValid,
            await ConnectResultAsync(client, BrokerFixture.ClientOptions(fixture.Broker.Port, "esp-1", "pi-1", BrokerFixture.DevicePassword)));
        Assert.Contains(fixture.Refusals, r => r.Reason.Contains("must connect with client id 'pi-1'", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_device_publishes_its_own_uplinks_but_not_into_another_subtree()
    {
        await using var fixture = await BrokerFixture.StartAsync();
        var factory = new MqttClientFactory();
        using var gateway = factory.CreateMqttClient();
        using var device = factory.CreateMqttClient();
        await gateway.ConnectAsync(BrokerFixture.ClientOptions(fixture.Broker.Port, "gateway", "gateway", "change-me-gateway"));
        await device.ConnectAsync(BrokerFixture.ClientOptions(fixture.Broker.Port, "pi-1", "pi-1", BrokerFixture.DevicePassword));

        var received = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var topics = new List<string>();
        gateway.ApplicationMessageReceivedAsync += e =>
        {
            lock (topics) topics.Add(e.ApplicationMessage.Topic);
            if (e.ApplicationMessage.Topic.EndsWith("/heartbeat", StringComparison.Ordinal)) received.TrySetResult(e.ApplicationMessage.Topic);
            return Task.CompletedTask;
        };
        await gateway.SubscribeAsync(factory.CreateSubscribeOptionsBuilder().WithTopicFilter("edgelam/v1/devices/#").Build());

        var forged = await device.PublishAsync(Message("edgelam/v1/devices/esp-1/hello"));
        var command = await device.PublishAsync(Message("edgelam/v1/devices/pi-1/assign"));
        var own = await device.PublishAsync(Message("edgelam/v1/devices/pi-1/heartbeat"));

        Assert.Equal(MqttClientPublishReasonCode.NotAuthorized, forged.ReasonCode);
        Assert.Equal(MqttClientPublishReasonCode.NotAuthorized, command.ReasonCode);
        Assert.Equal(MqttClientPublishReasonCode.Success, own.ReasonCode);
        Assert.Equal("edgelam/v1/devices/pi-1/heartbeat", await received.Task.WaitAsync(Wait));
        lock (topics) Assert.DoesNotContain("edgelam/v1/devices/esp-1/hello", topics);
        Assert.Contains(fixture.Refusals, r => r.Kind == "publish" && r.Reason.Contains("may publish only under edgelam/v1/devices/pi-1/", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_device_cannot_subscribe_to_another_device_or_the_command_topic()
    {
        await using var fixture = await BrokerFixture.StartAsync();
        var factory = new MqttClientFactory();
        using var device = factory.CreateMqttClient();
        await device.ConnectAsync(BrokerFixture.ClientOptions(fixture.Broker.Port, "pi-1", "pi-1", BrokerFixture.DevicePassword));

        var result = await device.SubscribeAsync(factory.CreateSubscribeOptionsBuilder()
            .WithTopicFilter("edgelam/v1/devices/esp-1/#")
            .WithTopicFilter("edgelam/v1/gateway/command")
            .WithTopicFilter("edgelam/v1/#")
            .WithTopicFilter("edgelam/v1/devices/pi-1/#")
            .WithTopicFilter("edgelam/v1/gateway/status").Build());

        var codes = result.Items.Select(i => i.ResultCode).ToArray();
        Assert.Equal(MqttClientSubscribeResultCode.NotAuthorized, codes[0]);
        Assert.Equal(MqttClientSubscribeResultCode.NotAuthorized, codes[1]);
        Assert.Equal(MqttClientSubscribeResultCode.NotAuthorized, codes[2]);
        Assert.NotEqual(MqttClientSubscribeResultCode.NotAuthorized, codes[3]);
        Assert.NotEqual(MqttClientSubscribeResultCode.NotAuthorized, codes[4]);
    }

    [Fact]
    public async Task A_revoked_device_can_no_longer_connect()
    {
        await using var fixture = await BrokerFixture.StartAsync();
        Assert.True(fixture.Credentials.Revoke("esp-1"));
        using var client = new MqttClientFactory().CreateMqttClient();
        Assert.Equal(MqttClientConnectResultCode.BadUserNameOrPassword,
            await ConnectResultAsync(client, BrokerFixture.ClientOptions(fixture.Broker.Port, "esp-1", "esp-1", BrokerFixture.DevicePassword)));
        // The revocation is persisted: a store reloaded from disk does not know the device either.
        var reloaded = new CredentialStore(Path.Combine(fixture.Directory, "credentials.json"));
        Assert.DoesNotContain(reloaded.Records, r => r.Name == "esp-1");
        Assert.Contains(reloaded.Records, r => r.Name == "pi-1" && r.Hash.StartsWith("$7$", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Every_refusal_is_announced_on_the_events_topic_naming_who_what_and_why()
    {
        await using var fixture = await BrokerFixture.StartAsync();
        var factory = new MqttClientFactory();
        using var observer = factory.CreateMqttClient();
        await observer.ConnectAsync(BrokerFixture.ClientOptions(fixture.Broker.Port, "gateway", "gateway", "change-me-gateway"));
        var events = System.Threading.Channels.Channel.CreateUnbounded<GatewayEvent>();
        observer.ApplicationMessageReceivedAsync += e =>
        {
            events.Writer.TryWrite(WireMessages.Decode<GatewayEvent>(e.ApplicationMessage.Payload.ToArray()));
            return Task.CompletedTask;
        };
        await observer.SubscribeAsync(factory.CreateSubscribeOptionsBuilder().WithTopicFilter(Topics.GatewayEvents).Build());

        using var anonymous = factory.CreateMqttClient();
        await ConnectResultAsync(anonymous, BrokerFixture.ClientOptions(fixture.Broker.Port, "pi-1", null, null));
        using var guesser = factory.CreateMqttClient();
        await ConnectResultAsync(guesser, BrokerFixture.ClientOptions(fixture.Broker.Port, "pi-1", "pi-1", "wrong-password"));
        using var device = factory.CreateMqttClient();
        await device.ConnectAsync(BrokerFixture.ClientOptions(fixture.Broker.Port, "pi-1", "pi-1", BrokerFixture.DevicePassword));
        await device.PublishAsync(Message("edgelam/v1/devices/esp-1/update"));
        await device.PublishAsync(Message("edgelam/v1/gateway/command"));
        await device.SubscribeAsync(factory.CreateSubscribeOptionsBuilder().WithTopicFilter("edgelam/v1/devices/esp-1/assign").Build());

        string[] expected =
        [
            "connect by 'pi-1': anonymous clients are refused",
            "connect by 'pi-1': bad username or password for 'pi-1'",
            "publish by 'pi-1' on 'edgelam/v1/devices/esp-1/update': device 'pi-1' may publish only under edgelam/v1/devices/pi-1/",
            "publish by 'pi-1' on 'edgelam/v1/gateway/command': device 'pi-1' may publish only under edgelam/v1/devices/pi-1/",
            "subscribe by 'pi-1' on 'edgelam/v1/devices/esp-1/assign': device 'pi-1' may subscribe only under",
        ];
        var details = new List<string>();
        using var timeout = new CancellationTokenSource(Wait);
        while (details.Count < expected.Length)
        {
            var next = await events.Reader.ReadAsync(timeout.Token);
            Assert.Equal(GatewayEventKind.AccessRefused, next.Kind);
            details.Add(next.Detail!);
        }

        foreach (var text in expected)
            Assert.Contains(details, d => d.StartsWith(text, StringComparison.Ordinal));
    }

    /// <summary>The CONNACK result code; MQTTnet 5 returns a refusal instead of throwing.</summary>
    private static async Task<MqttClientConnectResultCode> ConnectResultAsync(IMqttClient client, MqttClientOptions options) =>
        (await client.ConnectAsync(options)).ResultCode;

    private static MqttApplicationMessage Message(string topic) =>
        new MqttApplicationMessageBuilder().WithTopic(topic).WithPayload(Encoding.UTF8.GetBytes("{}"))
            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build();
}
