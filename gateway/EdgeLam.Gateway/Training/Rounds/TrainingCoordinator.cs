using System.Collections.Concurrent;
using System.Text.Json;
using EdgeLam.Boards;
using EdgeLam.Contracts.Messages;
using EdgeLam.Contracts.Wire;
using EdgeLam.Gateway.Fleet;
using EdgeLam.Gateway.Messaging;
using EdgeLam.Gateway.Persistence;
using EdgeLam.Gateway.Training.Frames;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EdgeLam.Gateway.Training.Rounds;

/// <summary>What one round did, measured: bytes are the payload bytes actually published and received.</summary>
public sealed record RoundOutcome(
    int Round,
    string Strategy,
    bool Aggregated,
    int Assigned,
    IReadOnlyList<TrainingReply> Replies,
    IReadOnlyList<TrainingFailure> Failures,
    AggregationResult? Result,
    long UplinkBytes,
    long DownlinkBytes,
    TimeSpan Duration,
    string Summary);

/// <summary>
/// The round loop (configure → send → collect → aggregate → persist), which knows no strategy details:
/// the strategy chooses participants and combines replies; failures (timeouts, devices that vanish,
/// malformed or mismatched updates) are inputs to aggregation, never exceptions.
/// </summary>
public sealed partial class TrainingCoordinator : IDisposable
{
    private readonly GatewayMqttClient _mqtt;
    private readonly DeviceRegistry _registry;
    private readonly RejectionPublisher _rejections;
    private readonly GatewayStore _store;
    private readonly TimeProvider _clock;
    private readonly ILogger<TrainingCoordinator> _logger;
    private readonly TrainingOptions _options;
    private readonly AdapterLayout _layout;
    private readonly ConcurrentDictionary<string, int> _shards = new(StringComparer.Ordinal);
    private readonly Dictionary<string, BoardProfile> _boards;
    private readonly SemaphoreSlim _oneRoundAtATime = new(1, 1);
    private PendingRound? _pending;

    public TrainingCoordinator(GatewayMqttClient mqtt, DeviceRegistry registry, RejectionPublisher rejections, GatewayStore store,
        TimeProvider clock, IOptions<TrainingOptions> options, AdapterLayout layout, ILogger<TrainingCoordinator> logger)
    {
        _mqtt = mqtt;
        _registry = registry;
        _rejections = rejections;
        _store = store;
        _clock = clock;
        _options = options.Value;
        _layout = layout;
        _logger = logger;
        _boards = BoardProfileLoader.LoadBuiltIn().ToDictionary(b => b.Id, StringComparer.Ordinal);
        _registry.DeviceOffline += device => _pending?.Fail(device.DeviceId, "device went offline during the round");
        Global = GlobalModelState.Initial;
    }

    public void Dispose() => _oneRoundAtATime.Dispose();

    /// <summary>The global state after the last aggregated round.</summary>
    public GlobalModelState Global { get; private set; }

    public int LastRound { get; private set; }

    /// <summary>True while a round is collecting updates; unlearning refuses to run then.</summary>
    public bool IsRoundRunning => _pending is not null;

    /// <summary>Resumes from the store: interrupted rounds are marked failed, the last global state is loaded.</summary>
    public void Resume()
    {
        var interrupted = _store.FailInterruptedRounds(_clock.GetUtcNow());
        if (interrupted > 0) LogInterrupted(interrupted);
        LastRound = _store.Rounds().Select(r => r.Round).DefaultIfEmpty(0).Max();
        if (_store.LatestGlobalState() is { } latest)
        {
            var (parameters, aggregated) = ModelParametersCodec.Decode(latest.Payload);
            Global = new GlobalModelState(aggregated, parameters);
            LogResumed(latest.Round, aggregated);
        }
    }

    /// <summary>Replaces the global state (unlearning writes its result here).</summary>
    public void ReplaceGlobal(GlobalModelState state) => Global = state;

    /// <summary>Pins a device to a shard of the Dirichlet split (the fleet spec does this for the emulated fleet).</summary>
    public void AssignShard(string deviceId, int partitionIndex)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(partitionIndex);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(partitionIndex, _options.PartitionCount);
        _shards[deviceId] = partitionIndex;
    }

    public async Task<RoundOutcome> RunRoundAsync(IFederatedStrategy strategy, string strategyName, IReadOnlyCollection<string>? deviceIds = null,
        CancellationToken cancellationToken = default)
    {
        await _oneRoundAtATime.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await RunRoundCoreAsync(strategy, strategyName, deviceIds, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _pending = null;
            _oneRoundAtATime.Release();
        }
    }

    /// <summary>Handles an update message; returns false for leaves it does not own.</summary>
    public async Task<bool> HandleAsync(DeviceMessage message)
    {
        if (message.Leaf != DeviceTopic.Update) return false;
        var pending = _pending;
        var now = _clock.GetUtcNow();
        if (pending is null || !pending.Instructions.TryGetValue(message.DeviceId, out var instruction))
        {
            await RejectUpdateAsync(message, pending?.Round, RejectionReason.NotAssigned, "no running round assigned this device").ConfigureAwait(false);
            return true;
        }

        if (now > pending.Deadline)
        {
            await RejectUpdateAsync(message, pending.Round, RejectionReason.StaleRound, $"round {pending.Round} closed at {pending.Deadline:O}").ConfigureAwait(false);
            return true;
        }

        MessageBundle<LoraUpdateHeader> update;
        TrainingReply reply;
        try
        {
            update = MessageBundle<LoraUpdateHeader>.Decode(message.Payload);
            if (update.Header.Round != pending.Round)
            {
                await RejectUpdateAsync(message, pending.Round, RejectionReason.StaleRound, $"update answers round {update.Header.Round}, round {pending.Round} is running").ConfigureAwait(false);
                return true;
            }

            if (Mismatch(update.Header, instruction) is { } mismatch)
            {
                await RejectUpdateAsync(message, pending.Round, RejectionReason.AssignmentMismatch, mismatch).ConfigureAwait(false);
                pending.Fail(message.DeviceId, "update did not match the assignment: " + mismatch);
                return true;
            }

            reply = LoraUpdateReader.ToReply(message.DeviceId, update, pending.Round, instruction.LoraAlpha, message.Payload.LongLength);
        }
        catch (WireFormatException ex)
        {
            _store.AppendLedger(new LedgerEntry(now, message.DeviceId, pending.Round, message.Topic, message.Payload.Length, "rejected", $"{ex.Code}: {ex.Message}"));
            await _rejections.RejectMalformedAsync(message, ex, pending.Round).ConfigureAwait(false);
            pending.Fail(message.DeviceId, $"malformed update ({ex.Code}): {ex.Message}");
            return true;
        }

        if (!pending.Accept(reply, update.Header.TrainingLoss))
        {
            await RejectUpdateAsync(message, pending.Round, RejectionReason.StaleRound, "a second update for the same round: the first one counts").ConfigureAwait(false);
            return true;
        }

        _store.AppendLedger(new LedgerEntry(now, message.DeviceId, pending.Round, message.Topic, message.Payload.Length, "accepted", ""));
        return true;
    }

    private async Task<RoundOutcome> RunRoundCoreAsync(IFederatedStrategy strategy, string strategyName, IReadOnlyCollection<string>? deviceIds, CancellationToken cancellationToken)
    {
        var started = _clock.GetTimestamp();
        var round = LastRound + 1;
        LastRound = round;
        var hyper = new TrainingHyperparameters(_options.LocalSteps, _options.LearningRate, _options.BatchSize, _options.LoraAlpha, _options.Seed);
        var context = new RoundContext(round, Global, _layout, hyper);
        var members = _registry.OnlineDevices
            .Where(d => deviceIds is null || deviceIds.Contains(d.DeviceId))
            .Select(ToMember).ToArray();
        _store.StartRound(round, strategyName, _clock.GetUtcNow());
        var instructions = strategy.ConfigureTrain(context, members);
        var deadline = _clock.GetUtcNow() + _options.RoundTimeout;
        var pending = new PendingRound(round, deadline, instructions.ToDictionary(i => i.DeviceId, StringComparer.Ordinal));
        _pending = pending;
        LogRoundStarted(round, strategyName, instructions.Count);
        await PublishEventAsync(GatewayEventKind.RoundStarted, round, $"{strategyName}: {instructions.Count} devices").ConfigureAwait(false);

        long downlink = 0;
        foreach (var instruction in instructions)
        {
            try
            {
                downlink += await SendInstructionAsync(round, instruction, deadline, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is InvalidOperationException or MQTTnet.Exceptions.MqttCommunicationException or WireFormatException)
            {
                pending.Fail(instruction.DeviceId, "assignment could not be sent: " + ex.Message);
            }
        }

        using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        {
            timeout.CancelAfter(_options.RoundTimeout);
            try
            {
                await pending.AllSettled.WaitAsync(timeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                pending.FailRemaining($"no update within the round timeout of {_options.RoundTimeout.TotalSeconds:0.#} s");
            }
        }

        var replies = pending.Replies;
        var failures = pending.Failures;
        var quorumMet = instructions.Count > 0 && replies.Count >= Math.Ceiling(_options.Quorum * instructions.Count);
        AggregationResult? result = null;
        if (quorumMet)
        {
            result = strategy.AggregateTrain(context, replies, failures);
            quorumMet = result.Outcome == AggregationOutcome.Aggregated;
        }

        var uplink = replies.Sum(r => r.UplinkBytes);
        var elapsed = _clock.GetElapsedTime(started);
        string summary;
        if (quorumMet && result is not null)
        {
            Global = result.Global;
            var contributions = replies.Select(r => new ContributionRecord(round, r.DeviceId, r.ExampleCount, ModelParametersCodec.Encode(r.Trained), r.UplinkBytes)).ToArray();
            var metrics = JsonSerializer.Serialize(new
            {
                strategy = strategyName,
                accepted = replies.Count,
                failed = failures.Select(f => new { f.DeviceId, f.Reason }),
                uplinkBytes = uplink,
                downlinkBytes = downlink,
                trainingLoss = pending.Losses,
                seconds = elapsed.TotalSeconds,
            });
            _store.CompleteRound(round, contributions, ModelParametersCodec.Encode(Global.Parameters, Global.AggregatedRounds), metrics, _clock.GetUtcNow());
            summary = result.Summary;
            LogRoundAggregated(round, replies.Count, failures.Count, uplink, downlink);
            await PublishEventAsync(GatewayEventKind.RoundAggregated, round, $"{replies.Count} updates, {failures.Count} failures").ConfigureAwait(false);
        }
        else
        {
            summary = result?.Summary ?? $"quorum not met: {replies.Count} of {instructions.Count} devices replied (quorum {_options.Quorum:P0})";
            _store.FailRound(round, summary, _clock.GetUtcNow());
            LogRoundFailed(round, summary);
            await PublishEventAsync(GatewayEventKind.RoundFailed, round, summary).ConfigureAwait(false);
        }

        return new RoundOutcome(round, strategyName, quorumMet, instructions.Count, replies, failures, result, uplink, downlink, elapsed, summary);
    }

    /// <summary>Publishes the start adapter (when there is one) and the assignment; returns the payload bytes sent.</summary>
    private async Task<long> SendInstructionAsync(int round, TrainingInstruction instruction, DateTimeOffset deadline, CancellationToken cancellationToken)
    {
        long bytes = 0;
        if (instruction.StartFrom.Adapters.Count > 0)
        {
            var adapter = AdapterBundleWriter.Write(instruction.StartFrom.Adapters, round - 1, instruction.Precision, _options.BaseModelId).Encode();
            await _mqtt.PublishBytesAsync(Topics.Device(instruction.DeviceId, DeviceTopic.Adapter), adapter, cancellationToken: cancellationToken).ConfigureAwait(false);
            bytes += adapter.Length;
        }

        var assignment = WireMessages.Encode(new TrainingAssignment
        {
            Round = round,
            Rank = instruction.Rank,
            Layers = instruction.Layers,
            Precision = instruction.Precision,
            LocalSteps = instruction.LocalSteps,
            BatchSize = instruction.BatchSize,
            LearningRate = instruction.LearningRate,
            DeadlineUnixMilliseconds = deadline.ToUnixTimeMilliseconds(),
            PartitionSeed = _options.PartitionSeed,
            PartitionIndex = ShardOf(instruction.DeviceId),
            PartitionCount = _options.PartitionCount,
            DirichletAlpha = _options.DirichletAlpha,
        });
        await _mqtt.PublishBytesAsync(Topics.Device(instruction.DeviceId, DeviceTopic.Assign), assignment, cancellationToken: cancellationToken).ConfigureAwait(false);
        return bytes + assignment.Length;
    }

    private int ShardOf(string deviceId) =>
        _shards.GetOrAdd(deviceId, _ => _shards.Count % _options.PartitionCount);

    private FleetMember ToMember(FleetDevice device)
    {
        var hello = device.Capabilities;
        IReadOnlyList<int>? layers = null;
        // Layer coverage is part of heterogeneity: a board that holds only k adapted layers adapts the last k.
        if (_boards.TryGetValue(hello.BoardId, out var board) && board.Adaptation.MaxAdaptedLayerCount?.Value is { } count && count < _layout.Layers.Count)
            layers = _layout.Layers.Skip(_layout.Layers.Count - count).ToArray();
        return new FleetMember(device.DeviceId, hello.Tier, hello.MaxLoraRank, hello.Precisions, layers, 0);
    }

    private static string? Mismatch(LoraUpdateHeader header, TrainingInstruction instruction)
    {
        if (header.Rank != instruction.Rank) return $"rank {header.Rank}, assigned {instruction.Rank}";
        if (header.Precision != instruction.Precision) return $"precision {WireMessages.EnumName(header.Precision)}, assigned {WireMessages.EnumName(instruction.Precision)}";
        // A device may adapt fewer projections or layers than assigned (an ESP32 holds only what fits); never others.
        if (header.Layers.Count == 0 || header.Layers.Except(instruction.Layers).Any())
            return $"layers [{string.Join(",", header.Layers)}] are not within the assigned [{string.Join(",", instruction.Layers)}]";
        return null;
    }

    private async Task RejectUpdateAsync(DeviceMessage message, int? round, RejectionReason reason, string detail)
    {
        _store.AppendLedger(new LedgerEntry(_clock.GetUtcNow(), message.DeviceId, round, message.Topic, message.Payload.Length, "rejected", $"{WireMessages.EnumName(reason)}: {detail}"));
        await _rejections.RejectAsync(message, reason, detail, round: round).ConfigureAwait(false);
    }

    private Task PublishEventAsync(GatewayEventKind kind, int round, string detail) =>
        _mqtt.PublishAsync(Topics.GatewayEvents, new GatewayEvent
        {
            Kind = kind,
            TimestampUnixMilliseconds = _clock.GetUtcNow().ToUnixTimeMilliseconds(),
            Round = round,
            Detail = detail.Length <= 500 ? detail : detail[..500],
        });

    /// <summary>Replies and failures of the running round; each assigned device settles exactly once.</summary>
    private sealed class PendingRound(int round, DateTimeOffset deadline, Dictionary<string, TrainingInstruction> instructions)
    {
        private readonly Lock _gate = new();
        private readonly Dictionary<string, TrainingReply> _replies = new(StringComparer.Ordinal);
        private readonly Dictionary<string, TrainingFailure> _failures = new(StringComparer.Ordinal);
        private readonly Dictionary<string, double> _losses = new(StringComparer.Ordinal);
        private readonly TaskCompletionSource _allSettled = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public int Round { get; } = round;
        public DateTimeOffset Deadline { get; } = deadline;
        public IReadOnlyDictionary<string, TrainingInstruction> Instructions { get; } = instructions;
        public Task AllSettled => Instructions.Count == 0 ? Task.CompletedTask : _allSettled.Task;

        public IReadOnlyList<TrainingReply> Replies { get { lock (_gate) return _replies.Values.OrderBy(r => r.DeviceId, StringComparer.Ordinal).ToArray(); } }
        public IReadOnlyList<TrainingFailure> Failures { get { lock (_gate) return _failures.Values.OrderBy(f => f.DeviceId, StringComparer.Ordinal).ToArray(); } }
        public IReadOnlyDictionary<string, double> Losses { get { lock (_gate) return new Dictionary<string, double>(_losses, StringComparer.Ordinal); } }

        public bool Accept(TrainingReply reply, double loss)
        {
            lock (_gate)
            {
                if (IsSettled(reply.DeviceId)) return false;
                _replies[reply.DeviceId] = reply;
                _losses[reply.DeviceId] = loss;
                CheckAllSettled();
                return true;
            }
        }

        public void Fail(string deviceId, string reason)
        {
            lock (_gate)
            {
                if (!Instructions.ContainsKey(deviceId) || IsSettled(deviceId)) return;
                _failures[deviceId] = new TrainingFailure(deviceId, reason);
                CheckAllSettled();
            }
        }

        public void FailRemaining(string reason)
        {
            lock (_gate)
            {
                foreach (var deviceId in Instructions.Keys)
                    if (!IsSettled(deviceId)) _failures[deviceId] = new TrainingFailure(deviceId, reason);
                CheckAllSettled();
            }
        }

        private bool IsSettled(string deviceId) => _replies.ContainsKey(deviceId) || _failures.ContainsKey(deviceId);

        private void CheckAllSettled()
        {
            if (_replies.Count + _failures.Count >= Instructions.Count) _allSettled.TrySetResult();
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Round {Round} started with strategy {Strategy}: {Devices} devices assigned")]
    private partial void LogRoundStarted(int round, string strategy, int devices);

    [LoggerMessage(Level = LogLevel.Information, Message = "Round {Round} aggregated {Updates} updates ({Failures} failures); uplink {UplinkBytes} B, downlink {DownlinkBytes} B")]
    private partial void LogRoundAggregated(int round, int updates, int failures, long uplinkBytes, long downlinkBytes);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Round {Round} failed: {Reason}")]
    private partial void LogRoundFailed(int round, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Rounds} rounds were interrupted by a restart and are marked failed")]
    private partial void LogInterrupted(int rounds);

    [LoggerMessage(Level = LogLevel.Information, Message = "Resumed from round {Round} ({Aggregated} aggregated rounds)")]
    private partial void LogResumed(int round, int aggregated);
}
