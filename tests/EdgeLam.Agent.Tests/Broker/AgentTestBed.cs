using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using EdgeLam.Agent.Hardware;
using EdgeLam.Boards;
using EdgeLam.Contracts.Wire;
using EdgeLam.Gateway.Broker;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Protocol;

namespace EdgeLam.Agent.Tests.Broker;

/// <summary>A real embedded broker on a free port, enrolled devices, and an MQTT 5 client acting as the gateway.</summary>
public sealed class AgentTestBed : IAsyncDisposable
{
    public const string DevicePassword = "device-secret-1";
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private readonly List<AgentHandle> _agents = [];
    private readonly List<IMqttClient> _clients = [];

    private AgentTestBed(string directory, BrokerOptions options, CredentialStore credentials, EmbeddedBroker broker)
    {
        Directory = directory;
        Options = options;
        Credentials = credentials;
        Broker = broker;
    }

    public string Directory { get; }
    public BrokerOptions Options { get; }
    public CredentialStore Credentials { get; }
    public EmbeddedBroker Broker { get; private set; }
    public int Port => Broker.Port;

    public static Task<AgentTestBed> StartAsync(params string[] devices) => StartAsync(useTls: false, devices);

    /// <summary>With <paramref name="useTls"/> the broker listens with TLS only, on a self-signed certificate created in the bed's folder.</summary>
    public static async Task<AgentTestBed> StartAsync(bool useTls, params string[] devices)
    {
        var directory = Path.Combine(Path.GetTempPath(), "edgelam-agent-" + Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(directory);
        var options = new BrokerOptions { Port = 0, CredentialsPath = Path.Combine(directory, "credentials.json") };
        if (useTls)
        {
            options.UseTls = true;
            options.CertificatePath = Path.Combine(directory, "tls", "broker.pfx");
        }

        var credentials = new CredentialStore(options.CredentialsPath);
        credentials.Enroll(options.GatewayUser, ClientRole.Gateway, options.GatewayPassword);
        foreach (var device in devices)
            credentials.Enroll(device, ClientRole.Device, DevicePassword);
        var broker = new EmbeddedBroker(Microsoft.Extensions.Options.Options.Create(options), credentials, NullLogger<EmbeddedBroker>.Instance);
        await broker.StartAsync(CancellationToken.None);
        return new AgentTestBed(directory, options, credentials, broker);
    }

    /// <summary>Stops the broker and starts a fresh one (no sessions, no retained messages) on the same port.</summary>
    public async Task RestartBrokerAsync(Action betweenStopAndStart)
    {
        int port = Broker.Port;
        await Broker.DisposeAsync();
        betweenStopAndStart();
        var options = new BrokerOptions { Port = port, CredentialsPath = Options.CredentialsPath };
        Broker = new EmbeddedBroker(Microsoft.Extensions.Options.Options.Create(options), Credentials, NullLogger<EmbeddedBroker>.Instance);
        await Broker.StartAsync(CancellationToken.None);
    }

    /// <summary>A copy of a shipped board profile with some values changed, written as a file the agent loads.</summary>
    public string WriteBoard(string boardId, long? modelBudgetBytes = null, double? fp32MacsPerSecond = null)
    {
        var source = Path.Combine(BoardProfileLoader.FindBoardsDirectory(AppContext.BaseDirectory), boardId + ".json");
        var json = JsonNode.Parse(File.ReadAllText(source))!;
        if (modelBudgetBytes is { } budget) json["memory"]!["modelBudgetBytes"]!["value"] = budget;
        if (fp32MacsPerSecond is { } rate) json["multiplyAccumulatesPerSecond"]!["fp32"]!["value"] = rate;
        var folder = Path.Combine(Directory, "boards-" + Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(folder);
        var path = Path.Combine(folder, boardId + ".json");
        File.WriteAllText(path, json.ToJsonString());
        return path;
    }

    /// <summary>Starts an agent with the tiny model and short intervals.</summary>
    public async Task<(AgentHandle Handle, SimulatedStatusLed Led, SimulatedTemperatureSensor Sensor)> StartAgentAsync(
        string deviceId, string board, bool pace = false)
    {
        var led = new SimulatedStatusLed();
        var sensor = new SimulatedTemperatureSensor();
        var launch = new AgentLaunch(board, deviceId, "127.0.0.1", Port, DevicePassword)
        {
            PaceToBoardThroughput = pace,
            Configure = TinyOptions,
        };
        var handle = await AgentRunner.StartAsync(launch, hardware: new AgentHardware(led, sensor));
        _agents.Add(handle);
        return (handle, led, sensor);
    }

    /// <summary>One cache of the tiny base checkpoint for all tests of a run.</summary>
    public static readonly string CheckpointDirectory = Path.Combine(Path.GetTempPath(), "edgelam-agent-tests-checkpoints");

    public static void TinyOptions(AgentOptions options)
    {
        options.ModelSize = "tiny";
        options.PretrainingEpochs = 1;
        options.PublicSliceCount = 2_000;
        options.CheckpointDirectory = CheckpointDirectory;
        options.DevicePoolCount = 8_000;
        options.HeartbeatInterval = TimeSpan.FromMilliseconds(200);
        options.ReconnectInitialDelay = TimeSpan.FromMilliseconds(50);
        options.ReconnectMaximumDelay = TimeSpan.FromMilliseconds(400);
        options.CalibrationRuns = 3;
    }

    /// <summary>An MQTT 5 client logged in as the gateway, subscribed to every device topic.</summary>
    public async Task<GatewayProbe> ConnectGatewayAsync(string filter = "edgelam/v1/devices/#")
    {
        var client = new MqttClientFactory().CreateMqttClient();
        var probe = new GatewayProbe(client);
        var options = BrokerClientTls.Apply(new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", Port).WithClientId("gateway-" + Guid.NewGuid().ToString("N")[..8])
            .WithProtocolVersion(MqttProtocolVersion.V500).WithCredentials(Options.GatewayUser, Options.GatewayPassword)
            .WithTimeout(TimeSpan.FromSeconds(5)), Options).Build();
        var result = await client.ConnectAsync(options);
        Assert.Equal(MqttClientConnectResultCode.Success, result.ResultCode);
        await client.SubscribeAsync(new MqttClientSubscribeOptionsBuilder().WithTopicFilter(filter, MqttQualityOfServiceLevel.AtLeastOnce).Build());
        _clients.Add(client);
        return probe;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var agent in _agents)
            await agent.DisposeAsync();
        foreach (var client in _clients)
        {
            if (client.IsConnected) await client.DisconnectAsync();
            client.Dispose();
        }

        await Broker.DisposeAsync();
        try { System.IO.Directory.Delete(Directory, recursive: true); } catch (IOException) { }
    }
}

/// <summary>Messages the gateway client received, awaitable by predicate.</summary>
public sealed class GatewayProbe
{
    private readonly ConcurrentQueue<MqttApplicationMessage> _messages = new();
    private readonly List<(Func<MqttApplicationMessage, bool> Match, TaskCompletionSource<MqttApplicationMessage> Signal)> _waiters = [];
    private readonly object _gate = new();

    public GatewayProbe(IMqttClient client)
    {
        Client = client;
        client.ApplicationMessageReceivedAsync += e =>
        {
            var message = e.ApplicationMessage;
            lock (_gate)
            {
                _messages.Enqueue(message);
                foreach (var waiter in _waiters.Where(w => w.Match(message)).ToList())
                {
                    waiter.Signal.TrySetResult(message);
                    _waiters.Remove(waiter);
                }
            }

            return Task.CompletedTask;
        };
    }

    public IMqttClient Client { get; }

    /// <summary>The first message (already received or arriving) on <paramref name="topic"/> that satisfies <paramref name="match"/>.</summary>
    public Task<MqttApplicationMessage> WaitAsync(string topic, Func<MqttApplicationMessage, bool>? match = null)
    {
        bool Matches(MqttApplicationMessage m) => m.Topic == topic && (match is null || match(m));
        var signal = new TaskCompletionSource<MqttApplicationMessage>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_gate)
        {
            var seen = _messages.FirstOrDefault(Matches);
            if (seen is not null) return Task.FromResult(seen);
            _waiters.Add((Matches, signal));
        }

        return signal.Task.WaitAsync(AgentTestBed.Timeout);
    }

    public Task PublishAsync(string topic, byte[] payload, string? responseTopic = null, byte[]? correlationData = null)
    {
        var builder = new MqttApplicationMessageBuilder().WithTopic(topic).WithPayload(payload).WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce);
        if (responseTopic is not null) builder.WithResponseTopic(responseTopic);
        if (correlationData is not null) builder.WithCorrelationData(correlationData);
        return Client.PublishAsync(builder.Build());
    }

    public static string Device(string deviceId, DeviceTopic leaf) => Topics.Device(deviceId, leaf);
}
