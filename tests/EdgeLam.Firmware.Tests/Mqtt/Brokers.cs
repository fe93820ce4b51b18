using EdgeLam.Tests.Shared;
using System.Diagnostics;
using EdgeLam.Firmware.Application;
using EdgeLam.Firmware.Emulator.Hosting;
using EdgeLam.Firmware.Mqtt;
using EdgeLam.Gateway.Broker;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using MQTTnet;
using MqttClient = EdgeLam.Firmware.Mqtt.MqttClient;
using MQTTnet.Formatter;

namespace EdgeLam.Firmware.Tests.Mqtt;

/// <summary>A broker the tests talk to: the gateway's embedded MQTTnet broker or a real mosquitto, on a free loopback port.</summary>
public sealed class TestBroker : IAsyncDisposable
{
    public const string GatewayUser = "gateway";
    public const string GatewayPassword = "gateway-secret";
    public const string DevicePassword = "device-secret";

    private readonly string _directory;
    private readonly EmbeddedBroker? _embedded;
    private readonly MosquittoProcess? _mosquitto;

    private TestBroker(string directory, int port, EmbeddedBroker? embedded, MosquittoProcess? mosquitto)
    {
        _directory = directory;
        Port = port;
        _embedded = embedded;
        _mosquitto = mosquitto;
    }

    public int Port { get; }

    public static readonly string[] Devices = ["esp-1", "esp-2", "esp-3"];

    private static CredentialStore Enroll(string directory)
    {
        var store = new CredentialStore(Path.Combine(directory, "credentials.json"));
        store.Enroll(GatewayUser, ClientRole.Gateway, GatewayPassword);
        foreach (var device in Devices) store.Enroll(device, ClientRole.Device, DevicePassword);
        return store;
    }

    public static async Task<TestBroker> StartEmbeddedAsync()
    {
        var directory = NewDirectory();
        var options = new BrokerOptions { Port = 0, CredentialsPath = Path.Combine(directory, "credentials.json"), GatewayUser = GatewayUser, GatewayPassword = GatewayPassword };
        var broker = new EmbeddedBroker(Options.Create(options), Enroll(directory), NullLogger<EmbeddedBroker>.Instance);
        await broker.StartAsync(CancellationToken.None);
        return new TestBroker(directory, broker.Port, broker, null);
    }

    public static async Task<TestBroker> StartMosquittoAsync()
    {
        var directory = NewDirectory();
        var mosquitto = await MosquittoProcess.StartAsync(directory, Enroll(directory).Records);
        return new TestBroker(directory, mosquitto.Port, null, mosquitto);
    }

    /// <summary>An MQTTnet client logged in as the gateway, standing in for it.</summary>
    public async Task<IMqttClient> ConnectGatewayAsync()
    {
        var client = new MqttClientFactory().CreateMqttClient();
        var options = new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", Port).WithClientId("gateway-" + Guid.NewGuid().ToString("N")[..8])
            .WithProtocolVersion(MqttProtocolVersion.V311).WithCredentials(GatewayUser, GatewayPassword).WithTimeout(TimeSpan.FromSeconds(5)).Build();
        var result = await client.ConnectAsync(options);
        Assert.Equal(MqttClientConnectResultCode.Success, result.ResultCode);
        return client;
    }

    /// <summary>The firmware's own client over the emulator's TCP transport.</summary>
    public MqttClient NewDeviceClient(IMqttMessageHandler handler, out TcpByteTransport transport, IClock? clock = null)
    {
        transport = new TcpByteTransport("127.0.0.1", Port);
        return new MqttClient(transport, clock ?? new SystemClock(), handler, 64 * 1024, 8) { ResponseTimeoutMilliseconds = 5000 };
    }

    public static MqttConnectOptions DeviceOptions(string deviceId, string password = DevicePassword) => new(deviceId)
    {
        UserName = deviceId,
        Password = password,
        KeepAliveSeconds = 30,
        WillTopic = $"edgelam/v1/devices/{deviceId}/status",
        WillPayload = "{\"state\":\"offline\",\"reason\":\"last-will\"}"u8.ToArray(),
        WillQualityOfService = 1,
        WillRetain = true,
    };

    public async ValueTask DisposeAsync()
    {
        if (_embedded is not null) await _embedded.DisposeAsync();
        if (_mosquitto is not null) await _mosquitto.DisposeAsync();

        try { Directory.Delete(_directory, recursive: true); } catch (IOException) { }
    }

    private static string NewDirectory()
    {
        var directory = Path.Combine(Path.GetTempPath(), "edgelam-firmware-broker-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        return directory;
    }
}

/// <summary>Collects what the firmware client delivers.</summary>
public sealed class RecordingHandler : IMqttMessageHandler
{
    public List<(string Topic, byte[] Payload, bool Retain)> Messages { get; } = [];
    public List<string> Losses { get; } = [];

    public void OnMessage(string topic, byte[] payload, bool retain) => Messages.Add((topic, payload, retain));

    public void OnConnectionLost(string reason) => Losses.Add(reason);

    /// <summary>Polls the client until a message on the topic arrives or the timeout passes.</summary>
    public (string Topic, byte[] Payload, bool Retain) PollUntil(MqttClient client, string topic, TimeSpan timeout)
    {
        var stopwatch = Stopwatch.StartNew();
        while (stopwatch.Elapsed < timeout)
        {
            var index = Messages.FindIndex(m => m.Topic == topic);
            if (index >= 0) return Messages[index];
            client.Poll(20);
        }

        throw new TimeoutException($"no message on '{topic}' within {timeout.TotalSeconds} s; got [{string.Join(", ", Messages.Select(m => m.Topic))}], losses [{string.Join("; ", Losses)}]");
    }
}
