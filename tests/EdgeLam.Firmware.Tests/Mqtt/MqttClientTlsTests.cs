using System.Buffers;
using System.Text;
using EdgeLam.Contracts.Transport;
using EdgeLam.Firmware.Emulator.Hosting;
using EdgeLam.Gateway.Broker;
using Microsoft.Extensions.Logging.Abstractions;
using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Protocol;
using MqttClient = EdgeLam.Firmware.Mqtt.MqttClient;

namespace EdgeLam.Firmware.Tests.Mqtt;

/// <summary>The firmware's MQTT 3.1.1 client over the emulator's TLS transport, against the embedded broker listening with TLS.</summary>
public sealed class MqttClientTlsTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task The_firmware_client_publishes_over_tls_and_refuses_a_broker_its_ca_does_not_vouch_for()
    {
        var directory = Path.Combine(Path.GetTempPath(), "edgelam-firmware-tls-" + Guid.NewGuid().ToString("N"));
        var options = new BrokerOptions
        {
            Port = 0,
            UseTls = true,
            CertificatePath = Path.Combine(directory, "broker.pfx"),
            CredentialsPath = Path.Combine(directory, "credentials.json"),
            GatewayUser = TestBroker.GatewayUser,
            GatewayPassword = TestBroker.GatewayPassword,
        };
        var credentials = new CredentialStore(options.CredentialsPath);
        credentials.Enroll(TestBroker.GatewayUser, ClientRole.Gateway, TestBroker.GatewayPassword);
        credentials.Enroll("esp-1", ClientRole.Device, TestBroker.DevicePassword);
        await using var broker = new EmbeddedBroker(Microsoft.Extensions.Options.Options.Create(options), credentials, NullLogger<EmbeddedBroker>.Instance);
        await broker.StartAsync(CancellationToken.None);
        var anchors = CertificateTrust.LoadAnchors(BrokerCertificates.PublicPemPath(options.CertificatePath));

        using var gateway = new MqttClientFactory().CreateMqttClient();
        await gateway.ConnectAsync(BrokerClientTls.Apply(new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", broker.Port)
            .WithClientId("gateway").WithCredentials(TestBroker.GatewayUser, TestBroker.GatewayPassword)
            .WithProtocolVersion(MqttProtocolVersion.V311), options).Build());
        var uplink = new TaskCompletionSource<byte[]>(TaskCreationOptions.RunContinuationsAsynchronously);
        gateway.ApplicationMessageReceivedAsync += e =>
        {
            uplink.TrySetResult(e.ApplicationMessage.Payload.ToArray());
            return Task.CompletedTask;
        };
        await gateway.SubscribeAsync("edgelam/v1/devices/+/hello", MqttQualityOfServiceLevel.AtLeastOnce);

        using var transport = new TlsByteTransport("127.0.0.1", broker.Port, anchors);
        var device = new MqttClient(transport, new SystemClock(), new RecordingHandler(), 64 * 1024, 8) { ResponseTimeoutMilliseconds = 5000 };
        device.Connect(TestBroker.DeviceOptions("esp-1"));
        var payload = Encoding.UTF8.GetBytes("{\"deviceId\":\"esp-1\"}");
        Assert.NotEqual(0, device.Publish("edgelam/v1/devices/esp-1/hello", payload, 1, false));
        Assert.True(device.WaitForAcknowledgments(5000), device.LastError);
        Assert.Equal(payload, await uplink.Task.WaitAsync(Wait));
        device.Disconnect();

        using var otherAuthority = BrokerCertificates.CreateAuthority("EdgeLam other CA");
        using var untrusting = new TlsByteTransport("127.0.0.1", broker.Port, [System.Security.Cryptography.X509Certificates.X509CertificateLoader.LoadCertificate(otherAuthority.RawData)]);
        Assert.ThrowsAny<Exception>(untrusting.Open);
        Assert.Contains("does not chain to a trusted certificate", untrusting.LastCertificateRefusal, StringComparison.Ordinal);
        Assert.False(untrusting.IsOpen);
        try { Directory.Delete(directory, recursive: true); } catch (IOException) { }
    }
}
