using EdgeLam.Contracts.Messages;
using EdgeLam.Contracts.Wire;
using EdgeLam.Gateway.Hosting;
using EdgeLam.Tests.Shared;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Protocol;

namespace EdgeLam.Gateway.Tests.Rounds;

/// <summary>A whole gateway host (embedded broker on a free port, temp database) for end-to-end tests.</summary>
public sealed class GatewayHarness : IAsyncDisposable
{
    public const string DevicePassword = "device-password";
    private readonly string _directory;

    private GatewayHarness(IHost host, string directory)
    {
        Host = host;
        _directory = directory;
    }

    public IHost Host { get; }
    public T Get<T>() where T : notnull => Host.Services.GetRequiredService<T>();
    public int Port => Get<GatewayRuntime>().BrokerPort;

    public static async Task<GatewayHarness> StartAsync(IEnumerable<string> deviceIds, Dictionary<string, string?>? settings = null)
    {
        var directory = Path.Combine(Path.GetTempPath(), "edgelam-gw-" + Guid.NewGuid().ToString("N"));
        var values = GatewayTestHost.Settings(directory, 0, GatewayTestHost.SmallModel, ShortRounds, settings);
        return new GatewayHarness(await GatewayTestHost.StartAsync(values, GatewayTestHost.Enroll(deviceIds, DevicePassword)), directory);
    }

    /// <summary>Rounds short enough for tests; a device that goes offline fails its round at once.</summary>
    private static readonly Dictionary<string, string?> ShortRounds = new()
    {
        ["Training:RoundTimeout"] = "00:00:20",
        ["Training:OfflineGrace"] = "00:00:00",
    };

    public async Task<IMqttClient> ConnectDeviceAsync(string deviceId)
    {
        var client = new MqttClientFactory().CreateMqttClient();
        var result = await client.ConnectAsync(new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", Port)
            .WithClientId(deviceId).WithCredentials(deviceId, DevicePassword).WithProtocolVersion(MqttProtocolVersion.V500)
            .WithWillTopic(Topics.Device(deviceId, DeviceTopic.Status))
            .WithWillPayload(WireMessages.Encode(new DeviceStatus { State = PresenceState.Offline, Reason = "last-will" }))
            .WithWillRetain().Build());
        Assert.Equal(MqttClientConnectResultCode.Success, result.ResultCode);
        return client;
    }

    public static Task PublishAsync(IMqttClient client, string topic, byte[] payload) =>
        client.PublishAsync(new MqttApplicationMessageBuilder().WithTopic(topic).WithPayload(payload)
            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build());

    public static DeviceHello Hello(string deviceId, string boardId, DeviceTier tier, int rank, params Precision[] precisions) => new()
    {
        DeviceId = deviceId,
        BoardId = boardId,
        Tier = tier,
        FirmwareVersion = "test",
        ProtocolVersion = DeviceHello.CurrentProtocolVersion,
        Precisions = precisions,
        MaxLoraRank = rank,
        MemoryBytes = 1 << 20,
        FlashBytes = 1 << 22,
        MacsPerSecond = 1e6,
    };

    public ValueTask DisposeAsync() => new(GatewayTestHost.StopAsync(Host, _directory));
}
