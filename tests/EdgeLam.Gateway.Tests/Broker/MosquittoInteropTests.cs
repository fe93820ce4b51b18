using EdgeLam.Tests.Shared;
using System.Text;
using EdgeLam.Gateway.Broker;
using MQTTnet;
using MQTTnet.Protocol;

namespace EdgeLam.Gateway.Tests.Broker;

/// <summary>The files written for an external Mosquitto make a real mosquitto enforce the same identities and ACL.</summary>
public sealed class MosquittoInteropTests
{
    [Fact]
    public async Task Mosquitto_accepts_our_hashes_and_enforces_our_acl()
    {
        var directory = Path.Combine(Path.GetTempPath(), "edgelam-mosquitto-" + Guid.NewGuid().ToString("N"));
        var store = new CredentialStore(Path.Combine(directory, "credentials.json"));
        store.Enroll("gateway", ClientRole.Gateway, "gateway-secret");
        store.Enroll("pi-1", ClientRole.Device, "device-secret");
        var mosquitto = await MosquittoProcess.StartAsync(directory, store.Records);
        var port = mosquitto.Port;
        try
        {
            var factory = new MqttClientFactory();
            using var device = factory.CreateMqttClient();

            var refused = await device.ConnectAsync(BrokerFixture.ClientOptions(port, "pi-1", "pi-1", "wrong"));
            Assert.NotEqual(MqttClientConnectResultCode.Success, refused.ResultCode);

            var accepted = await device.ConnectAsync(BrokerFixture.ClientOptions(port, "pi-1", "pi-1", "device-secret"));
            Assert.Equal(MqttClientConnectResultCode.Success, accepted.ResultCode);
            var own = await device.PublishAsync(Message("edgelam/v1/devices/pi-1/heartbeat"));
            var forged = await device.PublishAsync(Message("edgelam/v1/devices/esp-1/hello"));
            // Mosquitto answers 'no matching subscribers' (0x10), a success code, when no one listens yet.
            Assert.Contains(own.ReasonCode, new[] { MqttClientPublishReasonCode.Success, MqttClientPublishReasonCode.NoMatchingSubscribers });
            Assert.Equal(MqttClientPublishReasonCode.NotAuthorized, forged.ReasonCode);
        }
        finally
        {
            await mosquitto.DisposeAsync();
            Directory.Delete(directory, recursive: true);
        }
    }

    private static MqttApplicationMessage Message(string topic) =>
        new MqttApplicationMessageBuilder().WithTopic(topic).WithPayload(Encoding.UTF8.GetBytes("{}"))
            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build();
}
