using EdgeLam.Gateway.Broker;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using MQTTnet;
using MQTTnet.Formatter;

namespace EdgeLam.Gateway.Tests.Broker;

/// <summary>A real embedded broker on a free loopback port with a gateway and two enrolled devices.</summary>
public sealed class BrokerFixture : IAsyncDisposable
{
    public const string DevicePassword = "device-secret-1";

    private BrokerFixture(string directory, CredentialStore credentials, EmbeddedBroker broker)
    {
        Directory = directory;
        Credentials = credentials;
        Broker = broker;
    }

    public string Directory { get; }
    public CredentialStore Credentials { get; }
    public EmbeddedBroker Broker { get; }
    public List<BrokerRefusal> Refusals { get; } = [];

    public BrokerOptions Options { get; private init; } = new();

    /// <summary>Starts the broker; <paramref name="configure"/> may change the options (TLS) before it starts.</summary>
    public static async Task<BrokerFixture> StartAsync(Action<BrokerOptions, string>? configure = null)
    {
        var directory = Path.Combine(Path.GetTempPath(), "edgelam-broker-" + Guid.NewGuid().ToString("N"));
        var options = new BrokerOptions { Port = 0, CredentialsPath = Path.Combine(directory, "credentials.json") };
        configure?.Invoke(options, directory);
        var credentials = new CredentialStore(options.CredentialsPath);
        credentials.Enroll(options.GatewayUser, ClientRole.Gateway, options.GatewayPassword);
        credentials.Enroll("pi-1", ClientRole.Device, DevicePassword);
        credentials.Enroll("esp-1", ClientRole.Device, DevicePassword);
        var broker = new EmbeddedBroker(Microsoft.Extensions.Options.Options.Create(options), credentials, NullLogger<EmbeddedBroker>.Instance);
        var fixture = new BrokerFixture(directory, credentials, broker) { Options = options };
        broker.Refused += r => { lock (fixture.Refusals) fixture.Refusals.Add(r); };
        await broker.StartAsync(CancellationToken.None);
        return fixture;
    }

    public static MqttClientOptions ClientOptions(int port, string clientId, string? user, string? password) =>
        new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", port).WithClientId(clientId)
            .WithProtocolVersion(MqttProtocolVersion.V500)
            .WithCredentials(user, password).WithTimeout(TimeSpan.FromSeconds(5)).Build();

    public async ValueTask DisposeAsync()
    {
        await Broker.DisposeAsync();
        try { System.IO.Directory.Delete(Directory, recursive: true); } catch (IOException) { }
    }
}
