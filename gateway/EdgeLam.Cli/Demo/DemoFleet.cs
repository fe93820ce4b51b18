using System.Security.Cryptography;
using EdgeLam.Agent;
using EdgeLam.Agent.Training;
using EdgeLam.Boards;
using EdgeLam.Cli.Commands;
using EdgeLam.Firmware.Emulator;
using EdgeLam.Gateway.Broker;
using EdgeLam.Gateway.Fleet;
using EdgeLam.Gateway.Hosting;
using EdgeLam.Gateway.Training.Rounds;
using EdgeLam.Model.Checkpoints;
using EdgeLam.Model.Data;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace EdgeLam.Cli.Demo;

/// <summary>
/// The gateway host with its embedded broker plus the emulated fleet: every device is its own MQTT client
/// running the real agent (Pi/Jetson) or the real firmware core in the emulator (ESP32).
/// </summary>
public sealed class DemoFleet : IAsyncDisposable
{
    private readonly List<AgentHandle> _agents = [];
    private EmulatedFleet? _emulated;

    private DemoFleet(IHost gateway, FleetSpec spec)
    {
        Gateway = gateway;
        Spec = spec;
    }

    public IHost Gateway { get; }
    public FleetSpec Spec { get; }
    public T Get<T>() where T : notnull => Gateway.Services.GetRequiredService<T>();

    public static async Task<DemoFleet> StartAsync(FleetSpec spec, string boardsDirectory, string stateDirectory, BaseCheckpoint checkpoint,
        FashionMnistData data, DemoSettings settings, CancellationToken cancellationToken, IEnumerable<string>? extraSettings = null)
    {
        Directory.CreateDirectory(stateDirectory);
        string[] overrides =
        [
            "--Broker:Port=0",
            $"--Broker:CredentialsPath={Path.Combine(stateDirectory, "credentials.json")}",
            $"--Gateway:DatabasePath={Path.Combine(stateDirectory, "gateway.db")}",
            $"--Training:BaseModelId={checkpoint.ModelId}",
            $"--Training:LocalSteps={settings.LocalSteps}",
            $"--Training:BatchSize={settings.BatchSize}",
            $"--Training:LearningRate={settings.LearningRate.ToString(System.Globalization.CultureInfo.InvariantCulture)}",
            $"--Training:PartitionCount={spec.Devices.Max(d => d.Shard) + 1}",
            $"--Training:RoundTimeout={settings.RoundTimeout}",
            "--Training:Quorum=0.5",
            .. settings.AdaptedProjections.Select((projection, i) => $"--Training:AdaptedProjections:{i}={projection}"),
            .. settings.AdaptedProjectionsByTier.SelectMany(tier => tier.Value.Select((projection, i) => $"--Training:AdaptedProjectionsByTier:{tier.Key}:{i}={projection}")),
            $"--Inference:ModelledWanRoundTrip={TimeSpan.FromMilliseconds(settings.ModelledWanRoundTripMilliseconds)}",
            $"--Inference:ModelledWanMegabitsPerSecond={settings.ModelledWanMegabitsPerSecond.ToString(System.Globalization.CultureInfo.InvariantCulture)}",
            "--Logging:LogLevel:Default=Warning",
            "--Logging:LogLevel:EdgeLam=Warning",
        ];
        // Later command-line values win, so extra settings (e.g. --Api:Enabled=true) override the demo's.
        var host = GatewayCommand.BuildHost(null, [.. overrides, .. extraSettings ?? []], quietConsole: true);
        var fleet = new DemoFleet(host, spec);
        var credentials = host.Services.GetRequiredService<CredentialStore>();
        var passwords = spec.Devices.ToDictionary(d => d.Id, _ => Convert.ToHexString(RandomNumberGenerator.GetBytes(12)), StringComparer.Ordinal);
        foreach (var device in spec.Devices) credentials.Enroll(device.Id, ClientRole.Device, passwords[device.Id]);
        await host.StartAsync(cancellationToken).ConfigureAwait(false);
        var runtime = host.Services.GetRequiredService<GatewayRuntime>();
        await runtime.Ready.WaitAsync(TimeSpan.FromSeconds(30), cancellationToken).ConfigureAwait(false);
        var coordinator = host.Services.GetRequiredService<TrainingCoordinator>();
        foreach (var device in spec.Devices) coordinator.AssignShard(device.Id, device.Shard);

        var baseModel = new CheckpointBaseModelSource(checkpoint);
        var emulatorLaunches = new List<EmulatorLaunch>();
        foreach (var device in spec.Devices)
        {
            var boardPath = FleetSpec.BoardPath(boardsDirectory, device);
            if (FleetSpec.RuntimeOf(boardPath) == BoardRuntime.NanoFramework)
            {
                emulatorLaunches.Add(new EmulatorLaunch
                {
                    BoardPath = boardPath,
                    DeviceId = device.Id,
                    BrokerPort = runtime.BrokerPort,
                    Password = passwords[device.Id],
                    ModelConfig = checkpoint.Config,
                    // Timing on the ESP32 is modelled from the board profile, not slept through: the demo must finish in minutes.
                    PacingTimeScale = 0,
                    HeartbeatIntervalMilliseconds = 2000,
                });
            }
            else
            {
                fleet._agents.Add(await AgentRunner.StartAsync(new AgentLaunch(boardPath, device.Id, "127.0.0.1", runtime.BrokerPort, passwords[device.Id])
                {
                    ShardIndex = device.Shard,
                    ShardCount = spec.Devices.Max(d => d.Shard) + 1,
                    Configure = o => o.HeartbeatInterval = TimeSpan.FromSeconds(2),
                }, baseModel: baseModel).ConfigureAwait(false));
            }
        }

        if (emulatorLaunches.Count > 0)
            fleet._emulated = await EmulatorRunner.StartAsync(emulatorLaunches, new EmulatorModel(checkpoint.Weights, checkpoint.ModelId, data, PretrainingBudget.Default.PublicImages), null, cancellationToken).ConfigureAwait(false);
        await fleet.WaitForDevicesAsync(spec.Devices.Count, TimeSpan.FromSeconds(120), cancellationToken).ConfigureAwait(false);
        return fleet;
    }

    private async Task WaitForDevicesAsync(int count, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var registry = Get<DeviceRegistry>();
        var deadline = DateTime.UtcNow + timeout;
        while (registry.OnlineDevices.Count < count)
        {
            if (DateTime.UtcNow > deadline)
            {
                var missing = Spec.Devices.Select(d => d.Id).Except(registry.OnlineDevices.Select(d => d.DeviceId));
                throw new TimeoutException($"devices did not register within {timeout.TotalSeconds:0} s: {string.Join(", ", missing)}");
            }

            await Task.Delay(200, cancellationToken).ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var agent in _agents) await agent.DisposeAsync().ConfigureAwait(false);
        if (_emulated is not null) await _emulated.DisposeAsync().ConfigureAwait(false);
        await Gateway.StopAsync().ConfigureAwait(false);
        Gateway.Dispose();
    }

    /// <summary>Gives every agent the same frozen base the gateway and the emulated ESP32s use.</summary>
    private sealed class CheckpointBaseModelSource(BaseCheckpoint checkpoint) : IBaseModelSource
    {
        private readonly BaseModel _model = new(checkpoint.ModelId, checkpoint.Weights);

        public BaseModel Get(CancellationToken cancellationToken) => _model;
    }
}
