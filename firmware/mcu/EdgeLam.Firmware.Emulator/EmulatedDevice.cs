using EdgeLam.Boards;
using EdgeLam.Contracts.Artifacts;
using EdgeLam.Contracts.Transport;
using EdgeLam.Firmware.Application;
using EdgeLam.Firmware.Emulator.Hosting;
using EdgeLam.Firmware.Memory;
using EdgeLam.Firmware.Mqtt;
using Microsoft.Extensions.Logging;

namespace EdgeLam.Firmware.Emulator;

/// <summary>
/// One emulated ESP32: the firmware's <see cref="DeviceApplication"/> and MQTT client on a dedicated thread, over a
/// TCP transport, with the board profile's memory budget and throughput. Dispose stops it with an orderly offline status.
/// </summary>
public sealed partial class EmulatedDevice : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly IByteTransport _transport;
    private readonly HttpArtifactFetcher _artifacts = new(TimeSpan.FromSeconds(30));
    private readonly Thread _thread;
    private readonly TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ILogger _logger;

    public EmulatedDevice(EmulatorLaunch launch, BoardProfile board, ITrainingHost training, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(launch);
        ArgumentNullException.ThrowIfNull(board);
        ArgumentNullException.ThrowIfNull(training);
        if (!board.Supports(NumericPrecision.Int8) || board.Tier != BoardTier.Low)
            throw new ArgumentException($"Board '{board.Id}' is not an L-tier int8 board; the firmware emulator runs ESP32-class profiles only.", nameof(board));
        _logger = logger;
        Launch = launch;
        Board = board;
        var throughput = board.ThroughputAt(NumericPrecision.Int8).Value;
        var clock = new SystemClock();
        _transport = launch.TrustedCaPath is null
            ? new TcpByteTransport(launch.BrokerHost, launch.BrokerPort)
            : new TlsByteTransport(launch.BrokerHost, launch.BrokerPort, CertificateTrust.LoadAnchors(launch.TrustedCaPath));
        var profile = new DeviceProfile(launch.DeviceId, board.Id, FirmwareVersion, board.Adaptation.MaxLoraRank.Value,
            board.Memory.ModelBudgetBytes.Value, board.Memory.FlashBytes.Value, throughput)
        {
            HeartbeatIntervalMilliseconds = launch.HeartbeatIntervalMilliseconds,
            BenchmarkMillisecondsAtStart = launch.ThroughputBenchmarkMilliseconds,
        };
        var budget = new MemoryBudget(board.Id, board.Memory.ModelBudgetBytes.Value, board.Memory.FlashBytes.Value, board.Memory.TrainingBudgetBytes.Value);
        Pacer = new ProfilePacer(throughput, launch.PacingTimeScale);
        Application = new DeviceApplicationHandle();
        Client = new MqttClient(_transport, clock, Application, launch.ReceiveBufferBytes, 8);
        Application.Target = new DeviceApplication(profile, Client, clock, new LoggingStatusLed(logger, launch.DeviceId), Pacer, training, budget)
        {
            ArtifactFetcher = _artifacts,
        };
        _thread = new Thread(Run) { IsBackground = true, Name = "device " + launch.DeviceId };
    }

    public const string FirmwareVersion = "edgelam-fw-1.0";

    public EmulatorLaunch Launch { get; }
    public BoardProfile Board { get; }
    public ProfilePacer Pacer { get; }
    public MqttClient Client { get; }
    internal DeviceApplicationHandle Application { get; }

    /// <summary>The firmware application (read its counters; do not call it from another thread).</summary>
    public DeviceApplication Firmware => Application.Target!;

    /// <summary>Completes when the device has registered (or faults when the first connect fails).</summary>
    public Task Started => _started.Task;

    /// <summary>Completes when the device loop has ended.</summary>
    public Task Stopped => _stopped.Task;

    public void Start() => _thread.Start();

    private void Run()
    {
        var firmware = Application.Target!;
        try
        {
            firmware.Start(firmware.ConnectOptions(Launch.UserName ?? Launch.DeviceId, Launch.Password));
            _started.TrySetResult();
            LogStarted(_logger, Launch.DeviceId, Board.Id, Launch.BrokerHost, Launch.BrokerPort);
            while (!_stop.IsCancellationRequested)
                firmware.RunOnce(20);
            firmware.Stop();
        }
        catch (Exception error)
        {
            LogFailed(_logger, Launch.DeviceId, error.Message);
            _started.TrySetException(error);
        }
        finally
        {
            _transport.Close();
            _artifacts.Dispose();
            _stopped.TrySetResult();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        if (_thread.IsAlive) await _stopped.Task.WaitAsync(TimeSpan.FromSeconds(30));
        _stop.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Device {DeviceId} ({BoardId}) registered with {Host}:{Port}")]
    private static partial void LogStarted(ILogger logger, string deviceId, string boardId, string host, int port);

    [LoggerMessage(Level = LogLevel.Error, Message = "Device {DeviceId} stopped: {Reason}")]
    private static partial void LogFailed(ILogger logger, string deviceId, string reason);

    /// <summary>Lets the client be created before the application that handles its messages.</summary>
    internal sealed class DeviceApplicationHandle : IMqttMessageHandler
    {
        public DeviceApplication? Target { get; set; }

        public void OnMessage(string topic, byte[] payload, bool retain) => Target?.OnMessage(topic, payload, retain);

        public void OnConnectionLost(string reason) => Target?.OnConnectionLost(reason);
    }
}
