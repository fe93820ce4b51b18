using EdgeLam.Contracts.Messages;
using EdgeLam.Gateway.Hosting;
using EdgeLam.Tests.Shared;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using MQTTnet;
using MQTTnet.Formatter;

namespace EdgeLam.Cli.Tests;

/// <summary>A whole gateway host on free ports (embedded broker, optional HTTP API) with enrolled devices, in a temp folder.</summary>
public sealed class TestGateway : IAsyncDisposable
{
    public const string DevicePassword = "device-password-1";
    private readonly DirectoryInfo _directory;

    private TestGateway(IHost host, DirectoryInfo directory)
    {
        Host = host;
        _directory = directory;
    }

    public IHost Host { get; }
    public T Get<T>() where T : notnull => Host.Services.GetRequiredService<T>();
    public int BrokerPort => Get<GatewayRuntime>().BrokerPort;
    public string Directory => _directory.FullName;

    public static async Task<TestGateway> StartAsync(IEnumerable<string> deviceIds, IDictionary<string, string?>? settings = null)
    {
        var directory = System.IO.Directory.CreateTempSubdirectory("edgelam-cli-");
        var values = GatewayTestHost.Settings(directory.FullName, 0, settings?.AsReadOnly());
        return new TestGateway(await GatewayTestHost.StartAsync(values, GatewayTestHost.Enroll(deviceIds, DevicePassword)), directory);
    }

    public async Task<IMqttClient> ConnectDeviceAsync(string deviceId)
    {
        var client = new MqttClientFactory().CreateMqttClient();
        await client.ConnectAsync(new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", BrokerPort)
            .WithClientId(deviceId).WithCredentials(deviceId, DevicePassword).WithProtocolVersion(MqttProtocolVersion.V500).Build());
        return client;
    }

    public static DeviceHello Hello(string deviceId) => new()
    {
        DeviceId = deviceId,
        BoardId = "raspberry-pi-4",
        Tier = DeviceTier.M,
        FirmwareVersion = "test",
        ProtocolVersion = DeviceHello.CurrentProtocolVersion,
        Precisions = [Precision.Fp32],
        MaxLoraRank = 8,
        MemoryBytes = 1 << 20,
        FlashBytes = 0,
        MacsPerSecond = 1e9,
    };

    public ValueTask DisposeAsync() => new(GatewayTestHost.StopAsync(Host, Directory));
}
