using EdgeLam.Agent.Messaging;
using EdgeLam.Contracts.Messages;
using EdgeLam.Gateway.Broker;
using Microsoft.Extensions.Logging.Abstractions;

namespace EdgeLam.Agent.Tests.Broker;

public sealed class AgentTlsTests
{
    [Fact]
    public async Task The_agent_connects_over_tls_trusting_the_broker_certificate_and_its_uplinks_arrive()
    {
        await using var bed = await AgentTestBed.StartAsync(useTls: true, "pi-tls");
        var probe = await bed.ConnectGatewayAsync();
        var options = Options("pi-tls", bed, BrokerCertificates.PublicPemPath(bed.Options.CertificatePath!));
        await using var connection = new AgentConnection(options, NullLogger.Instance);
        var connected = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        connection.ConnectionChanged += up => { if (up) connected.TrySetResult(); };
        using var stop = new CancellationTokenSource();
        var running = connection.RunAsync(stop.Token);

        await connected.Task.WaitAsync(AgentTestBed.Timeout);
        Assert.True(await connection.TryPublishAsync(connection.StatusMessage(PresenceState.Online, null), CancellationToken.None));
        await probe.WaitAsync("edgelam/v1/devices/pi-tls/status");
        await stop.CancelAsync();
        await running;
    }

    [Fact]
    public async Task The_agent_refuses_a_broker_whose_certificate_does_not_chain_to_its_trusted_ca()
    {
        await using var bed = await AgentTestBed.StartAsync(useTls: true, "pi-tls");
        using var otherAuthority = BrokerCertificates.CreateAuthority("EdgeLam other CA");
        var otherCa = Path.Combine(bed.Directory, "other-ca.crt");
        BrokerCertificates.WritePublicPem(otherAuthority, otherCa);
        await using var connection = new AgentConnection(Options("pi-tls", bed, otherCa), NullLogger.Instance);
        using var stop = new CancellationTokenSource();
        var failures = 0;
        var twoFailures = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        connection.ConnectFailed += _ => { if (Interlocked.Increment(ref failures) >= 2) twoFailures.TrySetResult(); };
        var running = connection.RunAsync(stop.Token);

        await twoFailures.Task.WaitAsync(AgentTestBed.Timeout);
        Assert.Equal(0, connection.ConnectCount);
        Assert.False(connection.IsConnected);
        await stop.CancelAsync();
        await running;
    }

    private static AgentOptions Options(string deviceId, AgentTestBed bed, string trustedCa)
    {
        var options = new AgentOptions
        {
            DeviceId = deviceId,
            Board = "raspberry-pi-4",
            BrokerHost = "127.0.0.1",
            BrokerPort = bed.Port,
            Password = AgentTestBed.DevicePassword,
            UseTls = true,
            TrustedCaPath = trustedCa,
        };
        AgentTestBed.TinyOptions(options);
        return options;
    }
}
