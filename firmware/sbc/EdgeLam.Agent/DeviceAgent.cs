using System.Collections.Concurrent;
using System.Diagnostics;
using System.Reflection;
using System.Threading.Channels;
using EdgeLam.Agent.Hardware;
using EdgeLam.Agent.Inference;
using EdgeLam.Agent.Messaging;
using EdgeLam.Agent.Training;
using EdgeLam.Boards;
using EdgeLam.Contracts.Messages;
using EdgeLam.Contracts.Wire;
using EdgeLam.Model.Architecture;
using Microsoft.Extensions.Logging;
using MQTTnet;
using MQTTnet.Protocol;

namespace EdgeLam.Agent;

/// <summary>
/// One M/H-tier device: its MQTT session, LoRA training, stage inference, heartbeats, status LED and thermal
/// throttling. Many can run in one process (emulated fleet); each has its own connection, shard and variants.
/// </summary>
public sealed partial class DeviceAgent : IAsyncDisposable
{
    private readonly AgentOptions _options;
    private readonly BoardProfile _board;
    private readonly AgentHardware _hardware;
    private readonly ILogger _logger;
    private readonly AgentConnection _connection;
    private readonly VariantHost _variants;
    private readonly ThermalGovernor _governor;
    private readonly LoadMeter _load = new();
    private readonly IBaseModelSource _baseModel;
    private readonly AgentData _data;
    private readonly TinyVitConfig _config;
    private readonly Channel<TrainingAssignment> _assignments = Channel.CreateUnbounded<TrainingAssignment>();
    private readonly Channel<InferenceTask> _inferenceQueue = Channel.CreateUnbounded<InferenceTask>();
    private readonly ConcurrentDictionary<int, MqttApplicationMessage?> _rounds = new();
    private readonly SemaphoreSlim _deployGate = new(1, 1);
    private TensorBundle? _globalAdapter;
    private TensorBundle? _globalWeights;
    private int _queuedInference;
    private int _pendingTraining;
    private volatile bool _training;
    private volatile bool _inferring;
    private long _heartbeatSequence;

    /// <summary>An agent for <paramref name="board"/>; it starts working in <see cref="RunAsync"/>.</summary>
    public DeviceAgent(AgentOptions options, BoardProfile board, AgentHardware hardware, ILoggerFactory loggerFactory, IBaseModelSource? baseModel = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(board);
        ArgumentNullException.ThrowIfNull(hardware);
        ArgumentNullException.ThrowIfNull(loggerFactory);
        _options = options;
        _board = board;
        _hardware = hardware;
        _logger = loggerFactory.CreateLogger($"EdgeLam.Agent.{options.DeviceId}");
        _connection = new AgentConnection(options, _logger) { MessageReceived = OnMessageAsync, Connected = OnConnectedAsync };
        _connection.ConnectionChanged += _ => RefreshLed();
        _variants = new VariantHost(board, options, _logger);
        _governor = new ThermalGovernor(hardware.TemperatureSensor, options.ThrottleCelsius, options.ThrottleHysteresisCelsius, options.ThrottlePollInterval, _logger);
        _config = CheckpointBaseModelSource.ConfigOf(options.ModelSize);
        _data = AgentData.For(options);
        _baseModel = baseModel ?? CheckpointBaseModelSource.For(options, _data);
    }

    /// <summary>Raised when local training of a round has finished and its update is queued for upload.</summary>
    public event Action<int, LoraRoundResult>? RoundTrained;

    /// <summary>Raised when an assignment cannot be trained, with the round and the reason.</summary>
    public event Action<int, string>? RoundRefused;

    /// <summary>The device id.</summary>
    public string DeviceId => _options.DeviceId;

    /// <summary>The board profile it runs as.</summary>
    public BoardProfile Board => _board;

    /// <summary>Its status LED and temperature sensor.</summary>
    public AgentHardware Hardware => _hardware;

    /// <summary>Its MQTT session.</summary>
    public AgentConnection Connection => _connection;

    /// <summary>The variants it has loaded.</summary>
    public VariantHost Variants => _variants;

    /// <summary>Its thermal governor.</summary>
    public ThermalGovernor Thermal => _governor;

    private bool _stopping;

    /// <summary>Works until <paramref name="cancellationToken"/> is cancelled, then says "offline" (shutdown) and disconnects.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        LogStarting(_logger, _options.DeviceId, _board.Id, _options.BrokerHost, _options.BrokerPort);
        RefreshLed();
        Task[] loops =
        [
            _connection.RunAsync(cancellationToken),
            TrainingLoopAsync(cancellationToken),
            InferenceLoopAsync(cancellationToken),
            HeartbeatLoopAsync(cancellationToken),
        ];
        try
        {
            await Task.WhenAll(loops).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Orderly stop.
        }

        // From here on the LED says "off": a late connection-changed event must not repaint it as an error.
        Volatile.Write(ref _stopping, true);
        using var shutdown = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        await _connection.DisconnectAsync("shutdown", shutdown.Token).ConfigureAwait(false);
        _hardware.Led.SetPattern(LedPattern.Off);
        LogStopped(_logger, _options.DeviceId);
    }

    /// <summary>The hello this device sends after every connect, from its board profile.</summary>
    public DeviceHello Hello() => new()
    {
        DeviceId = _options.DeviceId,
        BoardId = _board.Id,
        Tier = _board.Tier switch { BoardTier.High => DeviceTier.H, BoardTier.Medium => DeviceTier.M, _ => DeviceTier.L },
        FirmwareVersion = Version,
        ProtocolVersion = DeviceHello.CurrentProtocolVersion,
        Precisions = PrecisionMapping.ToContract(_board.Precisions),
        MaxLoraRank = _board.Adaptation.MaxLoraRank.Value,
        MemoryBytes = _board.Memory.ModelBudgetBytes.Value,
        FlashBytes = _board.Memory.FlashBytes.Value,
        MacsPerSecond = _board.ThroughputAt(NumericPrecision.Fp32).Value,
        PowerWatts = _board.Power.BusyWatts.Value,
    };

    /// <summary>The heartbeat for the interval since the previous one.</summary>
    public DeviceHeartbeat Heartbeat()
    {
        var (busy, interval) = _load.TakeInterval();
        long available = Math.Min(_board.Memory.RamBytes.Value, GC.GetGCMemoryInfo().TotalAvailableMemoryBytes);
        return new DeviceHeartbeat
        {
            Sequence = Interlocked.Increment(ref _heartbeatSequence) - 1,
            IntervalMilliseconds = interval,
            QueueLength = Math.Min(100_000, Volatile.Read(ref _queuedInference) + Volatile.Read(ref _pendingTraining)),
            BusyMilliseconds = busy,
            FreeMemoryBytes = Math.Max(0, available - _variants.UsedBytes - Environment.WorkingSet),
            TemperatureCelsius = _hardware.TemperatureSensor.TryReadCelsius(out double celsius) && celsius is >= -60 and <= 150 ? celsius : null,
        };
    }

    private static string Version =>
        (typeof(DeviceAgent).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "1.0.0").Split('+')[0] is { Length: > 0 } version
            ? version[..Math.Min(32, version.Length)]
            : "1.0.0";

    private async Task OnConnectedAsync(CancellationToken cancellationToken)
    {
        await _connection.TryPublishAsync(_connection.Uplink(DeviceTopic.Hello, WireMessages.Encode(Hello())), cancellationToken).ConfigureAwait(false);
        await _connection.TryPublishAsync(_connection.StatusMessage(PresenceState.Online, _connection.ConnectCount > 1 ? "reconnect" : null), cancellationToken).ConfigureAwait(false);
    }

    private async Task OnMessageAsync(ReceivedMessage message)
    {
        try
        {
            switch (message.Leaf)
            {
                case DeviceTopic.Assign:
                    Accept(WireMessages.Decode<TrainingAssignment>(message.Payload));
                    break;
                case DeviceTopic.Adapter:
                    var adapter = MessageBundle<AdapterHeader>.Decode(message.Payload);
                    if (adapter.Header.ModeOrDefault() == TrainingScope.Full)
                        Volatile.Write(ref _globalWeights, adapter.Bundle);
                    else
                        Volatile.Write(ref _globalAdapter, adapter.Bundle);
                    LogAdapterReceived(_logger, adapter.Header.Round, adapter.Header.Rank, adapter.Header.BaseModelId);
                    break;
                case DeviceTopic.Deploy:
                    _ = Task.Run(() => DeployAsync(message.Payload));
                    break;
                case DeviceTopic.InferenceRequest:
                    var request = MessageBundle<InferenceRequestHeader>.Decode(message.Payload);
                    Interlocked.Increment(ref _queuedInference);
                    await _inferenceQueue.Writer.WriteAsync(new InferenceTask(request, message.ResponseTopic, message.CorrelationData, Stopwatch.GetTimestamp())).ConfigureAwait(false);
                    break;
                case DeviceTopic.Rejected:
                    var rejection = WireMessages.Decode<Rejection>(message.Payload);
                    LogRejected(_logger, rejection.RejectedTopic, WireMessages.EnumName(rejection.Reason), rejection.Detail);
                    break;
            }
        }
        catch (WireFormatException exception)
        {
            LogMalformed(_logger, Topics.LeafName(message.Leaf), exception.Message);
        }
    }

    private void Accept(TrainingAssignment assignment)
    {
        // QoS 1 may deliver an assignment twice, and the gateway re-sends it after a reconnect: train each round once.
        if (!_rounds.TryAdd(assignment.Round, null))
        {
            if (_rounds.TryGetValue(assignment.Round, out MqttApplicationMessage? finished) && finished is not null)
            {
                LogResending(_logger, assignment.Round);
                _ = _connection.EnqueueAsync(finished, CancellationToken.None);
            }

            return;
        }

        Interlocked.Increment(ref _pendingTraining);
        _assignments.Writer.TryWrite(assignment);
    }

    private async Task TrainingLoopAsync(CancellationToken cancellationToken)
    {
        await foreach (TrainingAssignment assignment in _assignments.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
        {
            try
            {
                await TrainAsync(assignment, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception exception) when (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                Refuse(assignment.Round, $"training failed: {exception.Message}");
            }
            finally
            {
                Interlocked.Decrement(ref _pendingTraining);
                _training = false;
                RefreshLed();
            }
        }
    }

    private async Task TrainAsync(TrainingAssignment assignment, CancellationToken cancellationToken)
    {
        bool full = assignment.ModeOrDefault() == TrainingScope.Full;
        string? refusal = full ? FullTrainingJob.Refusal(assignment, _board, _config) : LoraTrainingJob.Refusal(assignment, _board, _config);
        if (refusal is not null)
        {
            Refuse(assignment.Round, refusal);
            return;
        }

        if (DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() > assignment.DeadlineUnixMilliseconds)
        {
            Refuse(assignment.Round, "the deadline passed before training could start");
            return;
        }

        await _governor.WaitUntilCoolAsync(cancellationToken).ConfigureAwait(false);
        _training = true;
        RefreshLed();
        LogTrainingStarted(_logger, assignment.Round, assignment.Rank, assignment.Layers.Count, assignment.LocalSteps);
        BaseModel baseModel = await Task.Run(() => _baseModel.Get(cancellationToken), cancellationToken).ConfigureAwait(false);
        var shard = _data.Shard(assignment.PartitionSeed, assignment.DirichletAlpha, assignment.PartitionIndex, assignment.PartitionCount);
        TensorBundle? global = Volatile.Read(ref _globalAdapter);
        if (full)
        {
            global = Volatile.Read(ref _globalWeights);
        }
        else if (global is not null)
        {
            var header = WireMessages.Decode<AdapterHeader>(global.HeaderJson);
            if (header.Rank != assignment.Rank || header.BaseModelId != baseModel.Id)
            {
                LogAdapterUnusable(_logger, header.Round, header.Rank, header.BaseModelId, assignment.Rank, baseModel.Id);
                global = null;
            }
        }

        int seed = HashCode.Combine(_options.DeviceId.GetHashCode(StringComparison.Ordinal), assignment.Round);
        double? paced = _options.PaceToBoardThroughput ? _board.ThroughputAt(NumericPrecision.Fp32).Value : null;
        LoraRoundResult result;
        using (_load.Busy())
        {
            // The assignment's alpha keeps the device's scale alpha/r equal to the one the gateway de-quantizes with.
            float loraAlpha = assignment.LoraAlpha is { } alpha ? (float)alpha : _options.LoraAlpha;
            result = full
                ? await FullTrainingJob.RunAsync(assignment, baseModel, shard, global, paced, seed, cancellationToken).ConfigureAwait(false)
                : await LoraTrainingJob.RunAsync(assignment, baseModel, shard, global, loraAlpha, paced, seed, cancellationToken).ConfigureAwait(false);
        }

        MqttApplicationMessage upload = _connection.Uplink(DeviceTopic.Update, result.Update.Encode());
        _rounds[assignment.Round] = upload;
        LogTrainingFinished(_logger, assignment.Round, result.InitialLoss, result.Update.Header.TrainingLoss, result.Update.Header.SampleCount,
            result.ComputeTime.TotalMilliseconds, result.ModelledTime?.TotalMilliseconds);
        RoundTrained?.Invoke(assignment.Round, result);
        await _connection.EnqueueAsync(upload, cancellationToken).ConfigureAwait(false);
    }

    private void Refuse(int round, string reason)
    {
        // The contract has no device-to-gateway training failure message: the reason is logged, and the gateway
        // sees the missing update at its round deadline (a failure input to aggregation).
        LogTrainingRefused(_logger, round, reason);
        _hardware.Led.SetPattern(LedPattern.Error);
        RoundRefused?.Invoke(round, reason);
    }

    private async Task DeployAsync(byte[] payload)
    {
        await _deployGate.WaitAsync().ConfigureAwait(false);
        try
        {
            byte[]? ack;
            using (_load.Busy())
            {
                ack = _variants.Handle(payload);
            }

            if (ack is not null)
                await _connection.EnqueueAsync(_connection.Uplink(DeviceTopic.DeployAck, ack), CancellationToken.None).ConfigureAwait(false);
        }
        finally
        {
            _deployGate.Release();
        }
    }

    private async Task InferenceLoopAsync(CancellationToken cancellationToken)
    {
        (TinyVitConfig, Func<Precision, double>)? pacing = _options.PaceToBoardThroughput
            ? (_config, precision => _board.ThroughputAt(PrecisionMapping.ToBoard(precision)).Value)
            : null;
        await foreach (InferenceTask task in _inferenceQueue.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
        {
            int remaining = Interlocked.Decrement(ref _queuedInference);
            await _governor.WaitUntilCoolAsync(cancellationToken).ConfigureAwait(false);
            _inferring = true;
            RefreshLed();
            double waited = Stopwatch.GetElapsedTime(task.EnqueuedTimestamp).TotalMilliseconds;
            MessageBundle<InferenceResultHeader> result;
            using (_load.Busy())
            {
                result = await StageExecutor.RunAsync(task, _variants, pacing, waited, remaining, DateTimeOffset.UtcNow, cancellationToken).ConfigureAwait(false);
            }

            _inferring = Volatile.Read(ref _queuedInference) > 0;
            RefreshLed();
            // The broker's acknowledgement is awaited off the compute loop: the next task runs while this result is on its way.
            _ = PublishResultAsync(task, result, cancellationToken);
        }
    }

    private async Task PublishResultAsync(InferenceTask task, MessageBundle<InferenceResultHeader> result, CancellationToken cancellationToken)
    {
        byte[] payload = result.Encode();
        string ownTopic = Topics.Device(_options.DeviceId, DeviceTopic.InferenceResult);
        var builder = new MqttApplicationMessageBuilder().WithPayload(payload).WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce);
        if (task.CorrelationData is { } correlation) builder.WithCorrelationData(correlation);
        string topic = task.ResponseTopic ?? ownTopic;
        if (await _connection.TryPublishAsync(builder.WithTopic(topic).Build(), cancellationToken).ConfigureAwait(false)) return;

        // The broker lets a device publish only its own uplinks; a response topic elsewhere falls back to infer/result.
        if (topic != ownTopic && await _connection.TryPublishAsync(builder.WithTopic(ownTopic).Build(), cancellationToken).ConfigureAwait(false)) return;
        LogResultDropped(_logger, result.Header.CorrelationId);
    }

    private async Task HeartbeatLoopAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(_options.HeartbeatInterval);
        while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
        {
            DeviceHeartbeat heartbeat = Heartbeat();
            if (_connection.IsConnected)
            {
                await _connection.TryPublishAsync(_connection.Uplink(DeviceTopic.Heartbeat, WireMessages.Encode(heartbeat)), cancellationToken).ConfigureAwait(false);
                await _connection.RetryPendingAsync(cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private void RefreshLed()
    {
        if (Volatile.Read(ref _stopping)) return;
        LedPattern pattern = _training ? LedPattern.Training
            : _inferring ? LedPattern.Inferring
            : _connection.IsConnected ? LedPattern.Idle
            : LedPattern.Error;
        _hardware.Led.SetPattern(pattern);
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        await _connection.DisposeAsync().ConfigureAwait(false);
        _variants.Dispose();
        _deployGate.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Device {DeviceId} starting as board {Board}, broker {Host}:{Port}")]
    private static partial void LogStarting(ILogger logger, string deviceId, string board, string host, int port);

    [LoggerMessage(Level = LogLevel.Information, Message = "Device {DeviceId} stopped")]
    private static partial void LogStopped(ILogger logger, string deviceId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Global adapter of round {Round} received (rank {Rank}, base {BaseModelId})")]
    private static partial void LogAdapterReceived(ILogger logger, int round, int rank, string baseModelId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Global adapter of round {Round} (rank {Rank}, base {BaseModelId}) does not fit the assignment (rank {AssignedRank}, base {OwnBase}); starting from B = 0")]
    private static partial void LogAdapterUnusable(ILogger logger, int round, int rank, string baseModelId, int assignedRank, string ownBase);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Gateway rejected a message on {Topic}: {Reason} ({Detail})")]
    private static partial void LogRejected(ILogger logger, string topic, string reason, string detail);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Malformed {Leaf} message ignored: {Reason}")]
    private static partial void LogMalformed(ILogger logger, string leaf, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Round {Round} assigned again: re-sending its update")]
    private static partial void LogResending(ILogger logger, int round);

    [LoggerMessage(Level = LogLevel.Information, Message = "Round {Round}: training rank {Rank} on {Layers} layers for {Steps} steps")]
    private static partial void LogTrainingStarted(ILogger logger, int round, int rank, int layers, int steps);

    [LoggerMessage(Level = LogLevel.Information, Message = "Round {Round} trained: loss {InitialLoss} -> {FinalLoss} over {Samples} samples in {ComputeMilliseconds} ms (modelled board time {ModelledMilliseconds} ms)")]
    private static partial void LogTrainingFinished(ILogger logger, int round, double initialLoss, double finalLoss, int samples, double computeMilliseconds, double? modelledMilliseconds);

    [LoggerMessage(Level = LogLevel.Error, Message = "Round {Round} not trained: {Reason}")]
    private static partial void LogTrainingRefused(ILogger logger, int round, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Inference result {CorrelationId} dropped: not connected")]
    private static partial void LogResultDropped(ILogger logger, string correlationId);
}
