using EdgeLam.Gateway.Broker;
using EdgeLam.Gateway.Hosting;
using EdgeLam.Gateway.Persistence;
using EdgeLam.Gateway.Training.Rounds;
using EdgeLam.Gateway.Training.Strategies;
using EdgeLam.Tests.Shared;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using MQTTnet.Server;

namespace EdgeLam.Reliability;

/// <summary>
/// A whole gateway host in this process (embedded broker or an external one, SQLite in its own folder) that can
/// be killed without an orderly shutdown and started again on the same database and port.
/// </summary>
public sealed class GatewayUnderTest : IAsyncDisposable
{
    public const string DevicePassword = "device-password-1";

    private readonly Dictionary<string, string?> _settings;
    private IHost? _host;
    private CancellationTokenSource _roundCancellation = new();

    private GatewayUnderTest(string directory, Dictionary<string, string?> settings)
    {
        Directory = directory;
        _settings = settings;
    }

    public string Directory { get; }
    public string DatabasePath => Path.Combine(Directory, "gateway.db");
    public string CredentialsPath => Path.Combine(Directory, "credentials.json");

    /// <summary>The port devices connect to (the embedded broker's, or the external broker's).</summary>
    public int Port { get; private set; }

    public IHost Host => _host ?? throw new InvalidOperationException("the gateway is not running");
    public T Get<T>() where T : notnull => Host.Services.GetRequiredService<T>();
    public TrainingCoordinator Coordinator => Get<TrainingCoordinator>();
    public UpdateLedger Ledger => Get<UpdateLedger>();

    /// <summary>
    /// Settings of a small model (the agents' "tiny" base) and short rounds; <paramref name="settings"/> overrides them.
    /// Devices are enrolled with <see cref="DevicePassword"/>.
    /// </summary>
    /// <param name="prepare">Runs after enrolment and before the host starts (an external broker starts here); returns further settings.</param>
    public static async Task<GatewayUnderTest> StartAsync(IEnumerable<string> deviceIds, IReadOnlyDictionary<string, string?>? settings = null,
        Func<string, CredentialStore, Task<IReadOnlyDictionary<string, string?>>>? prepare = null)
    {
        var directory = Path.Combine(Path.GetTempPath(), "edgelam-reliability-" + Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(directory);
        // A fixed port, not 0: a restarted gateway must listen where the devices reconnect.
        var values = GatewayTestHost.Settings(directory, Loopback.FreeTcpPort(), GatewayTestHost.SmallModel, ReliabilityRounds, settings);
        var gateway = new GatewayUnderTest(directory, values);
        var credentials = new CredentialStore(gateway.CredentialsPath);
        credentials.Enroll(values.GetValueOrDefault("Broker:GatewayUser") ?? "gateway", ClientRole.Gateway, values.GetValueOrDefault("Broker:GatewayPassword") ?? "change-me-gateway");
        foreach (var id in deviceIds) credentials.Enroll(id, ClientRole.Device, DevicePassword);
        if (prepare is not null)
            foreach (var (key, value) in await prepare(directory, credentials).ConfigureAwait(false)) values[key] = value;
        await gateway.StartHostAsync().ConfigureAwait(false);
        return gateway;
    }

    /// <summary>Starts a fedft_h round in the background; <see cref="KillAsync"/> abandons it without recording an outcome.</summary>
    public Task<RoundOutcome> StartRound(string strategy = FedFtHStrategy.StrategyName)
    {
        var token = _roundCancellation.Token;
        return Task.Run(() => Coordinator.RunRoundAsync(StrategyCatalog.Create(strategy), strategy, cancellationToken: token), CancellationToken.None);
    }

    /// <summary>
    /// Kills the gateway the way a power cut or SIGKILL would: the broker drops every connection at once, the round
    /// in progress is abandoned without writing anything, and no orderly shutdown runs.
    /// </summary>
    public async Task KillAsync(Task<RoundOutcome>? runningRound = null)
    {
        var host = Host;
        var broker = host.Services.GetRequiredService<EmbeddedBroker>();
        if (broker.Port != 0 && broker.Server.IsStarted) await broker.Server.StopAsync(new MqttServerStopOptions()).ConfigureAwait(false);
        await _roundCancellation.CancelAsync().ConfigureAwait(false);
        var coordinator = host.Services.GetRequiredService<TrainingCoordinator>();
        coordinator.Stop();
        foreach (var round in new[] { runningRound, coordinator.ResumedRound })
        {
            if (round is null) continue;
            try { await round.ConfigureAwait(false); }
            catch (OperationCanceledException) { }
        }

        await ((IAsyncDisposable)host).DisposeAsync().ConfigureAwait(false);
        _host = null;
        _roundCancellation.Dispose();
        _roundCancellation = new CancellationTokenSource();
    }

    /// <summary>Starts the gateway again on the same database, credentials and port.</summary>
    public Task RestartAsync() => StartHostAsync();

    private async Task StartHostAsync()
    {
        var host = await GatewayTestHost.StartAsync(_settings).ConfigureAwait(false);
        Port = host.Services.GetRequiredService<GatewayRuntime>().BrokerPort;
        _host = host;
    }

    public async ValueTask DisposeAsync()
    {
        if (_host is { } host)
        {
            await _roundCancellation.CancelAsync().ConfigureAwait(false);
            await GatewayTestHost.StopAsync(host, Directory).ConfigureAwait(false);
        }
        else
        {
            try { System.IO.Directory.Delete(Directory, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }

        _roundCancellation.Dispose();
    }

    /// <summary>Rounds, quorum and training short enough for fault scenarios with real agents.</summary>
    internal static readonly Dictionary<string, string?> ReliabilityRounds = new()
    {
        ["Training:RoundTimeout"] = "00:00:30",
        ["Training:OfflineGrace"] = "00:00:10",
        ["Training:Quorum"] = "0.5",
        ["Training:LocalSteps"] = "4",
        ["Training:BatchSize"] = "16",
        ["Training:PartitionCount"] = "8",
        ["Logging:LogLevel:Default"] = "Warning",
    };
}
