using System.Security.Cryptography.X509Certificates;
using System.Text;
using EdgeLam.Contracts.Transport;
using EdgeLam.Gateway.Broker;
using EdgeLam.Gateway.Messaging;
using Microsoft.Extensions.Logging.Abstractions;
using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Protocol;

namespace EdgeLam.Gateway.Tests.Broker;

public sealed class BrokerTlsTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task A_first_run_creates_a_certificate_and_a_tls_client_that_trusts_it_exchanges_a_message()
    {
        await using var fixture = await BrokerFixture.StartAsync(UseTls);
        var pem = BrokerCertificates.PublicPemPath(fixture.Options.CertificatePath!);
        Assert.True(File.Exists(fixture.Options.CertificatePath));
        Assert.Equal(fixture.Broker.ServerCertificate!.Thumbprint, CertificateTrust.LoadAnchors(pem)[0].Thumbprint);

        var anchors = CertificateTrust.LoadAnchors(pem);
        var factory = new MqttClientFactory();
        using var gateway = factory.CreateMqttClient();
        using var device = factory.CreateMqttClient();
        await gateway.ConnectAsync(TlsOptions(fixture.Broker.Port, "gateway", "change-me-gateway", anchors));
        await device.ConnectAsync(TlsOptions(fixture.Broker.Port, "pi-1", BrokerFixture.DevicePassword, anchors));
        var received = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        gateway.ApplicationMessageReceivedAsync += e =>
        {
            received.TrySetResult(Encoding.UTF8.GetString(e.ApplicationMessage.Payload));
            return Task.CompletedTask;
        };
        await gateway.SubscribeAsync(factory.CreateSubscribeOptionsBuilder().WithTopicFilter("edgelam/v1/devices/+/heartbeat").Build());

        var published = await device.PublishAsync(new MqttApplicationMessageBuilder().WithTopic("edgelam/v1/devices/pi-1/heartbeat")
            .WithPayload("{\"over\":\"tls\"}").WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build());

        Assert.Equal(MqttClientPublishReasonCode.Success, published.ReasonCode);
        Assert.Equal("{\"over\":\"tls\"}", await received.Task.WaitAsync(Wait));
    }

    [Fact]
    public async Task A_plain_tcp_client_is_refused_on_the_tls_port()
    {
        await using var fixture = await BrokerFixture.StartAsync(UseTls);
        using var client = new MqttClientFactory().CreateMqttClient();
        var plain = new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", fixture.Broker.Port).WithClientId("pi-1")
            .WithCredentials("pi-1", BrokerFixture.DevicePassword).WithProtocolVersion(MqttProtocolVersion.V500)
            .WithTimeout(TimeSpan.FromSeconds(3)).Build();

        await Assert.ThrowsAnyAsync<Exception>(() => client.ConnectAsync(plain));
        Assert.False(client.IsConnected);
    }

    [Fact]
    public async Task A_client_that_trusts_another_ca_refuses_the_broker()
    {
        await using var fixture = await BrokerFixture.StartAsync(UseTls);
        using var otherAuthority = BrokerCertificates.CreateAuthority("EdgeLam other CA");
        using var client = new MqttClientFactory().CreateMqttClient();
        X509Certificate2Collection wrongAnchors = [X509CertificateLoader.LoadCertificate(otherAuthority.RawData)];

        await Assert.ThrowsAnyAsync<Exception>(() => client.ConnectAsync(TlsOptions(fixture.Broker.Port, "pi-1", BrokerFixture.DevicePassword, wrongAnchors)));
        Assert.False(client.IsConnected);
    }

    [Fact]
    public async Task With_a_client_ca_only_certificates_it_signed_for_the_same_user_connect()
    {
        using var authority = BrokerCertificates.CreateAuthority("EdgeLam device CA");
        using var otherAuthority = BrokerCertificates.CreateAuthority("EdgeLam other CA");
        await using var fixture = await BrokerFixture.StartAsync((options, directory) =>
        {
            UseTls(options, directory);
            options.ClientCaPath = Path.Combine(directory, "device-ca.crt");
            BrokerCertificates.WritePublicPem(authority, options.ClientCaPath);
        });
        var anchors = CertificateTrust.LoadAnchors(BrokerCertificates.PublicPemPath(fixture.Options.CertificatePath!));
        using var good = BrokerCertificates.Issue(authority, "pi-1");
        using var foreign = BrokerCertificates.Issue(otherAuthority, "pi-1");
        using var borrowed = BrokerCertificates.Issue(authority, "esp-1");
        var factory = new MqttClientFactory();

        using var device = factory.CreateMqttClient();
        var connected = await device.ConnectAsync(TlsOptions(fixture.Broker.Port, "pi-1", BrokerFixture.DevicePassword, anchors, good));
        Assert.Equal(MqttClientConnectResultCode.Success, connected.ResultCode);

        using var intruder = factory.CreateMqttClient();
        await Assert.ThrowsAnyAsync<Exception>(() => intruder.ConnectAsync(TlsOptions(fixture.Broker.Port, "pi-1", BrokerFixture.DevicePassword, anchors, foreign)));
        using var anonymous = factory.CreateMqttClient();
        await Assert.ThrowsAnyAsync<Exception>(() => anonymous.ConnectAsync(TlsOptions(fixture.Broker.Port, "pi-1", BrokerFixture.DevicePassword, anchors)));
        using var impostor = factory.CreateMqttClient();
        var mismatch = await impostor.ConnectAsync(TlsOptions(fixture.Broker.Port, "pi-1", BrokerFixture.DevicePassword, anchors, borrowed));
        Assert.Equal(MqttClientConnectResultCode.NotAuthorized, mismatch.ResultCode);

        lock (fixture.Refusals)
        {
            Assert.Contains(fixture.Refusals, r => r.Kind == "tls" && r.Reason.Contains("does not chain to a trusted certificate", StringComparison.Ordinal));
            Assert.Contains(fixture.Refusals, r => r.Kind == "connect" && r.Reason.Contains("CN 'esp-1' does not name user 'pi-1'", StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task The_gateway_session_connects_over_tls_trusting_the_embedded_broker_certificate()
    {
        await using var fixture = await BrokerFixture.StartAsync(UseTls);
        await using var gateway = new GatewayMqttClient(Microsoft.Extensions.Options.Options.Create(fixture.Options), NullLogger<GatewayMqttClient>.Instance);
        using var timeout = new CancellationTokenSource(Wait);
        await gateway.StartAsync(fixture.Broker.Port, timeout.Token);
        Assert.True(gateway.IsConnected);
    }

    private static void UseTls(BrokerOptions options, string directory)
    {
        options.UseTls = true;
        options.CertificatePath = Path.Combine(directory, "tls", "broker.pfx");
        options.CertificatePassword = "pfx-secret";
    }

    private static MqttClientOptions TlsOptions(int port, string user, string password, X509Certificate2Collection anchors, X509Certificate2? clientCertificate = null) =>
        new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", port).WithClientId(user).WithCredentials(user, password)
            .WithProtocolVersion(MqttProtocolVersion.V500).WithTimeout(TimeSpan.FromSeconds(5))
            .WithTlsOptions(tls =>
            {
                tls.UseTls().WithCertificateValidationHandler(e => CertificateTrust.IsTrustedServer(e.Certificate, e.SslPolicyErrors, anchors, out _));
                if (clientCertificate is not null) tls.WithClientCertificates([clientCertificate]);
            })
            .Build();
}
