using System.Collections.Concurrent;
using System.Text.Json;
using EdgeLam.Boards;
using EdgeLam.Contracts.Messages;
using EdgeLam.Contracts.Wire;
using EdgeLam.Gateway.Fleet;
using EdgeLam.Gateway.Messaging;
using EdgeLam.Gateway.Persistence;
using EdgeLam.Gateway.Training.Frames;
using EdgeLam.Gateway.Training.Strategies;
using Microsoft.Data.Sqlite;
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
/// malformed or mismatched updates) are inputs to aggregation, never exceptions. A round's plan and every
/// accepted update are stored as they happen, so a gateway that restarts mid-round resumes it.
/// </summary>
public sealed partial class TrainingCoordinator : IDisposable
{
    private readonly GatewayMqttClient _mqtt;
    private readonly DeviceRegistry _registry;
    private readonly RejectionPublisher _rejections;
    private readonly GatewayStore _store;
    private readonly UpdateLedger _ledger;
    private readonly TimeProvider _clock;
    private readonly ILogger<TrainingCoordinator> _logger;
    private readonly TrainingOptions _options;
    private readonly AdapterLayout _layout;
    private readonly ConcurrentDictionary<string, int> _shards = new(StringComparer.Ordinal);
    private readonly Dictionary<string, BoardProfile> _boards;
    private readonly SemaphoreSlim _oneRoundAtATime = new(1, 1);
    private readonly CancellationTokenSource _stopping = new();
    private PendingRound? _pending;
    private PendingRound? _resumed;
    private readonly UpdateReplayGuard _arrivals;

    /// <summary>Rounds whose update nonces are remembered, so late replays are recognized; older ones are refused as stale anyway.</summary>
    private const int RoundsRememberedForReplays = 16;

    public TrainingCoordinator(GatewayMqttClient mqtt, DeviceRegistry registry, RejectionPublisher rejections, GatewayStore store, UpdateLedger ledger,
        TimeProvider clock, IOptions<TrainingOptions> options, AdapterLayout layout, UpdateReplayGuard arrivals, ILogger<TrainingCoordinator> logger)
    {
        _arrivals = arrivals;
        _mqtt = mqtt;
        _registry = registry;
        _rejections = rejections;
        _store = store;
        _ledger = ledger;
        _clock = clock;
        _options = options.Value;
        _layout = layout;
        _logger = logger;
        _boards = BoardProfileLoader.LoadBuiltIn().ToDictionary(b => b.Id, StringComparer.Ordinal);
        _registry.DeviceOffline += OnDeviceOffline;
        _registry.DeviceOnline += OnDeviceOnline;
        Global = GlobalModelState.Initial;
    }

    public void Dispose()
    {
        _stopping.Cancel();
        _stopping.Dispose();
        _oneRoundAtATime.Dispose();
    }

    /// <summary>The global state after the last aggregated round.</summary>
    public GlobalModelState Global { get; private set; }

    public int LastRound { get; private set; }

    /// <summary>True while a round is collecting updates; unlearning refuses to run then.</summary>
    public bool IsRoundRunning => _pending is not null;

    /// <summary>The round resumed after a restart, once <see cref="ContinueResumedRound"/> has started it; null when none was interrupted.</summary>
    public Task<RoundOutcome>? ResumedRound { get; private set; }

    /// <summary>
    /// Resumes from the store: the last global state is loaded, and the latest interrupted round re-opens with
    /// its stored assignments and accepted updates (other interrupted rounds are marked failed). Updates that
    /// arrive from here on count for it; <see cref="ContinueResumedRound"/> re-sends and closes it.
    /// </summary>
    public void Resume()
    {
        var now = _clock.GetUtcNow();
        var plan = _store.InterruptedRound();
        var interrupted = _store.FailInterruptedRounds(now, plan?.Round);
        if (interrupted > 0) LogInterrupted(interrupted);
        LastRound = _store.Rounds().Select(r => r.Round).DefaultIfEmpty(0).Max();
        _arrivals.Restore(LastRound + 1 - RoundsRememberedForReplays);
        if (_store.LatestGlobalState() is { } latest)
        {
            var (parameters, aggregated) = ModelParametersCodec.Decode(latest.Payload);
            Global = new GlobalModelState(aggregated, parameters);
            LogResumed(latest.Round, aggregated);
        }

        if (plan is not null) Reopen(plan, now);
    }

    /// <summary>Re-sends the resumed round's assignments to devices that had not replied, then closes it under the usual deadline and quorum rules.</summary>
    public void ContinueResumedRound()
    {
        if (Interlocked.Exchange(ref _resumed, null) is not { } pending) return;
        ResumedRound = Task.Run(() => ContinueAsync(pending), CancellationToken.None);
    }

    /// <summary>Stops a resumed round without recording an outcome: it stays open in the store and resumes at the next start.</summary>
    public void Stop() => _stopping.Cancel();

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
            var started = _clock.GetTimestamp();
            var pending = Open(strategy, strategyName, deviceIds);
            _pending = pending;
            LogRoundStarted(pending.Round, strategyName, pending.Instructions.Count);
            await PublishEventAsync(GatewayEventKind.RoundStarted, pending.Round, $"{strategyName}: {pending.Instructions.Count} devices").ConfigureAwait(false);
            foreach (var instruction in pending.Instructions.Values)
                await TrySendAsync(pending, instruction, cancellationToken).ConfigureAwait(false);
            return await CloseAsync(pending, started, cancellationToken).ConfigureAwait(false);
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
        MessageBundle<LoraUpdateHeader>? decoded = null;
        try
        {
            decoded = MessageBundle<LoraUpdateHeader>.Decode(message.Payload);
        }
        catch (WireFormatException)
        {
            // Refused below, with the round's context, by the same decoder.
        }

        // Replays and duplicates first, so a replay is called one even after its round closed; future rounds are not recorded.
        if (decoded is not null && decoded.Header.Round <= LastRound && await RefuseReplayOrDuplicateAsync(message, decoded.Header).ConfigureAwait(false))
            return true;

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
            update = decoded ?? MessageBundle<LoraUpdateHeader>.Decode(message.Payload);
            if (update.Header.Round != pending.Round)
            {
                await RejectUpdateAsync(message, pending.Round, RejectionReason.StaleRound, $"update answers round {update.Header.Round}, round {pending.Round} is running").ConfigureAwait(false);
                return true;
            }

            var capabilities = _registry.TryGet(message.DeviceId, out var device) ? device.Capabilities : null;
            if (Mismatch(update.Header, instruction, capabilities) is { } mismatch)
            {
                await RejectUpdateAsync(message, pending.Round, RejectionReason.AssignmentMismatch, mismatch).ConfigureAwait(false);
                pending.Fail(message.DeviceId, "update did not match the assignment: " + mismatch);
                return true;
            }

            reply = LoraUpdateReader.ToReply(message.DeviceId, update, pending.Round, instruction.LoraAlpha, message.Payload.LongLength);
            if (UnassignedProjection(reply, instruction) is { } unassigned)
            {
                await RejectUpdateAsync(message, pending.Round, RejectionReason.AssignmentMismatch, unassigned).ConfigureAwait(false);
                pending.Fail(message.DeviceId, "update did not match the assignment: " + unassigned);
                return true;
            }
        }
        catch (WireFormatException ex)
        {
            _ledger.Record(new LedgerEntry(now, message.DeviceId, pending.Round, message.Topic, message.Payload.Length, LedgerOutcome.Rejected, $"{ex.Code}: {ex.Message}"));
            await _rejections.RejectMalformedAsync(message, ex, pending.Round).ConfigureAwait(false);
            pending.Fail(message.DeviceId, $"malformed update ({ex.Code}): {ex.Message}");
            return true;
        }

        string? storageError = null;
        var accepted = new LedgerEntry(now, message.DeviceId, pending.Round, message.Topic, message.Payload.Length, LedgerOutcome.Accepted, "");
        var admission = pending.TryAccept(reply, update.Header.TrainingLoss, () =>
        {
            try
            {
                _store.AcceptUpdate(new AcceptedUpdateRecord(pending.Round, message.DeviceId, message.Payload), accepted,
                    UpdateReplayGuard.ArrivalKey(update.Header.Nonce, message.Payload));
                return true;
            }
            catch (SqliteException ex)
            {
                storageError = $"SQLite error {ex.SqliteErrorCode}: {ex.Message}";
                return false;
            }
        }, out var earlierFailure);
        switch (admission)
        {
            case UpdateAdmission.NotStored:
                LogUpdateNotStored(message.DeviceId, pending.Round, storageError!);
                _arrivals.Forget(pending.Round, message.DeviceId, update.Header.Nonce, message.Payload);
                await RejectUpdateAsync(message, pending.Round, RejectionReason.StorageUnavailable,
                    $"the gateway could not store the update ({storageError}), so it is not accepted").ConfigureAwait(false);
                pending.Fail(message.DeviceId, "update could not be stored: " + storageError);
                break;
            case UpdateAdmission.AlreadyReplied:
                await RejectUpdateAsync(message, pending.Round, RejectionReason.Duplicate, $"'{message.DeviceId}' already sent an update for round {pending.Round}: the first one counts").ConfigureAwait(false);
                break;
            case UpdateAdmission.AlreadyFailed:
                await RejectUpdateAsync(message, pending.Round, RejectionReason.StaleRound, $"this device already failed round {pending.Round}: {earlierFailure}").ConfigureAwait(false);
                break;
        }

        return true;
    }

    /// <summary>Refuses an update whose (round, device, nonce) arrived before, or a second one from the device in its round.</summary>
    private async Task<bool> RefuseReplayOrDuplicateAsync(DeviceMessage message, LoraUpdateHeader header)
    {
        switch (_arrivals.Record(header.Round, message.DeviceId, header.Nonce, message.Payload))
        {
            case UpdateArrival.Replayed:
                await RejectUpdateAsync(message, header.Round, RejectionReason.Replayed, header.Nonce is { } nonce
                    ? $"an update with nonce '{nonce}' from '{message.DeviceId}' for round {header.Round} was already received"
                    : $"the same update bytes from '{message.DeviceId}' for round {header.Round} were already received").ConfigureAwait(false);
                return true;
            case UpdateArrival.Duplicate:
                await RejectUpdateAsync(message, header.Round, RejectionReason.Duplicate,
                    $"'{message.DeviceId}' already sent an update for round {header.Round}: the first one counts").ConfigureAwait(false);
                return true;
            default:
                return false;
        }
    }

    private TrainingHyperparameters Hyperparameters() =>
        new(_options.LocalSteps, _options.LearningRate, _options.BatchSize, _options.LoraAlpha, _options.Seed, _options.MaximumUpdateNorm);

    /// <summary>Plans a new round and stores the plan before anything is sent.</summary>
    private PendingRound Open(IFederatedStrategy strategy, string strategyName, IReadOnlyCollection<string>? deviceIds)
    {
        var round = LastRound + 1;
        var context = new RoundContext(round, Global, _layout, Hyperparameters());
        var members = _registry.OnlineDevices
            .Where(d => deviceIds is null || deviceIds.Contains(d.DeviceId))
            .Select(ToMember).ToArray();
        var instructions = strategy.ConfigureTrain(context, members);
        foreach (var member in members.Where(m => !instructions.Any(i => i.DeviceId == m.DeviceId)))
            LogNotSelected(round, member.DeviceId, strategyName, FullFedAvgStrategy.Incapability(member, _layout) is { } why && instructions.Any(i => i.TrainsFullModel) ? why : "not chosen by the strategy");
        var deadline = _clock.GetUtcNow() + _options.RoundTimeout;
        var plan = new RoundPlanRecord(round, strategyName, deadline, ModelParametersCodec.Encode(Global.Parameters, Global.AggregatedRounds),
            instructions.Select(RoundPlanCodec.ToRecord).ToArray());
        try
        {
            _store.StartRound(plan, _clock.GetUtcNow());
        }
        catch (SqliteException ex)
        {
            LogRoundNotOpened(ex, round, ex.SqliteErrorCode);
            throw new InvalidOperationException($"round {round} cannot start: the database refused to store its plan (SQLite error {ex.SqliteErrorCode}: {ex.Message})", ex);
        }

        LastRound = round;
        _arrivals.ForgetRoundsBefore(round - RoundsRememberedForReplays);
        return new PendingRound(strategyName, strategy, context, deadline, instructions.ToDictionary(i => i.DeviceId, StringComparer.Ordinal));
    }

    /// <summary>Re-opens an interrupted round with what the store kept: its assignments and the updates already accepted.</summary>
    private void Reopen(RoundPlanRecord plan, DateTimeOffset now)
    {
        IFederatedStrategy strategy;
        try
        {
            strategy = StrategyCatalog.Create(plan.Strategy);
        }
        catch (ArgumentException ex)
        {
            _store.FailRound(plan.Round, "cannot resume after a restart: " + ex.Message, now);
            LogRoundFailed(plan.Round, ex.Message);
            return;
        }

        var (parameters, aggregated) = ModelParametersCodec.Decode(plan.GlobalAtStart);
        var context = new RoundContext(plan.Round, new GlobalModelState(aggregated, parameters), _layout, Hyperparameters());
        var instructions = plan.Assignments.Select(RoundPlanCodec.FromRecord).ToDictionary(i => i.DeviceId, StringComparer.Ordinal);
        // Devices need time to reconnect after a restart: a round whose deadline passed meanwhile gets the offline grace again.
        var deadline = plan.Deadline > now + _options.OfflineGrace ? plan.Deadline : now + _options.OfflineGrace;
        var pending = new PendingRound(plan.Strategy, strategy, context, deadline, instructions);
        var kept = 0;
        foreach (var stored in _store.AcceptedUpdates(plan.Round))
        {
            if (!instructions.TryGetValue(stored.DeviceId, out var instruction)) continue;
            var update = MessageBundle<LoraUpdateHeader>.Decode(stored.Payload);
            pending.Restore(LoraUpdateReader.ToReply(stored.DeviceId, update, plan.Round, instruction.LoraAlpha, stored.Payload.LongLength), update.Header.TrainingLoss);
            kept++;
        }

        if (!_oneRoundAtATime.Wait(0)) throw new InvalidOperationException("a round is already running; resume runs once, at start-up");
        _pending = pending;
        _resumed = pending;
        LogRoundReopened(plan.Round, plan.Strategy, kept, instructions.Count, deadline);
    }

    private async Task<RoundOutcome> ContinueAsync(PendingRound pending)
    {
        try
        {
            var started = _clock.GetTimestamp();
            var kept = pending.Replies.Count;
            await PublishEventAsync(GatewayEventKind.RoundStarted, pending.Round,
                $"{pending.StrategyName}: resumed after a restart with {kept} of {pending.Instructions.Count} updates kept").ConfigureAwait(false);
            foreach (var instruction in pending.Instructions.Values.Where(i => pending.IsUnsettled(i.DeviceId)))
            {
                // After a restart the gateway cannot know which devices were connected when it sent: each may reconnect later.
                pending.MarkMayLackAssignment(instruction.DeviceId);
                await TrySendAsync(pending, instruction, _stopping.Token).ConfigureAwait(false);
            }
            return await CloseAsync(pending, started, _stopping.Token).ConfigureAwait(false);
        }
        finally
        {
            _pending = null;
            _oneRoundAtATime.Release();
        }
    }

    /// <summary>Waits for every device to settle or the deadline, aggregates when the quorum replied, and stores the outcome.</summary>
    private async Task<RoundOutcome> CloseAsync(PendingRound pending, long started, CancellationToken cancellationToken)
    {
        var round = pending.Round;
        var remaining = pending.Deadline - _clock.GetUtcNow();
        using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        {
            timeout.CancelAfter(remaining > TimeSpan.Zero ? remaining : TimeSpan.Zero);
            try
            {
                await pending.AllSettled.WaitAsync(timeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                pending.FailRemaining($"no update within the round timeout of {_options.RoundTimeout.TotalSeconds:0.#} s");
            }
        }

        var instructions = pending.Instructions.Count;
        var replies = pending.Replies;
        var failures = pending.Failures;
        var downlink = pending.DownlinkBytes;
        var quorumMet = instructions > 0 && replies.Count >= Math.Ceiling(_options.Quorum * instructions);
        AggregationResult? result = null;
        if (quorumMet)
        {
            result = pending.Strategy.AggregateTrain(pending.Context, replies, failures);
            quorumMet = result.Outcome == AggregationOutcome.Aggregated;
        }

        if (result is not null)
            await RejectInvalidUpdatesAsync(round, replies, result.Rejected).ConfigureAwait(false);
        var uplink = replies.Sum(r => r.UplinkBytes);
        var elapsed = _clock.GetElapsedTime(started);
        string? summary = null;
        if (quorumMet && result is not null)
        {
            var rejectedIds = result.Rejected.Select(r => r.DeviceId).ToHashSet(StringComparer.Ordinal);
            var contributions = replies.Where(r => !rejectedIds.Contains(r.DeviceId)).Select(r => new ContributionRecord(round, r.DeviceId, r.ExampleCount, ModelParametersCodec.Encode(r.Trained), r.UplinkBytes)).ToArray();
            var metrics = JsonSerializer.Serialize(new
            {
                strategy = pending.StrategyName,
                accepted = replies.Count - rejectedIds.Count,
                rejected = result.Rejected.Select(r => new { r.DeviceId, r.Reason }),
                failed = failures.Select(f => new { f.DeviceId, f.Reason }),
                uplinkBytes = uplink,
                downlinkBytes = downlink,
                trainingLoss = pending.Losses,
                seconds = elapsed.TotalSeconds,
            });
            var globalState = ModelParametersCodec.Encode(result.Global.Parameters, result.Global.AggregatedRounds);
            if (await StoreWithRetryAsync(round, () => _store.CompleteRound(round, contributions, globalState, metrics, _clock.GetUtcNow()), cancellationToken).ConfigureAwait(false) is { } storageError)
            {
                // An aggregate that is not on disk is not claimed: the global model stays where the store says it is.
                quorumMet = false;
                summary = $"aggregated {replies.Count} updates but the database refused to store the result for {_options.StorageRetry.TotalSeconds:0.#} s ({storageError}); the global model is unchanged";
            }
            else
            {
                Global = result.Global;
                summary = result.Summary;
                _ledger.FlushUnpersisted();
                LogRoundAggregated(round, replies.Count, failures.Count, uplink, downlink);
                await PublishEventAsync(GatewayEventKind.RoundAggregated, round, $"{replies.Count} updates, {failures.Count} failures").ConfigureAwait(false);
            }
        }

        if (!quorumMet)
        {
            summary ??= result?.Summary ?? $"quorum not met: {replies.Count} of {instructions} devices replied (quorum {_options.Quorum:P0})";
            try
            {
                _store.FailRound(round, summary, _clock.GetUtcNow());
            }
            catch (SqliteException ex)
            {
                LogFailureNotStored(ex, round, ex.SqliteErrorCode);
            }

            LogRoundFailed(round, summary);
            await PublishEventAsync(GatewayEventKind.RoundFailed, round, summary).ConfigureAwait(false);
        }

        return new RoundOutcome(round, pending.StrategyName, quorumMet, instructions, replies, failures, result, uplink, downlink, elapsed, summary!);
    }

    /// <summary>True while a closing round waits for the database to take its outcome again.</summary>
    public bool IsWaitingForStorage { get; private set; }

    /// <summary>
    /// Runs <paramref name="write"/> until the database takes it or <see cref="TrainingOptions.StorageRetry"/> passes;
    /// returns null when it was stored, otherwise the last SQLite error.
    /// </summary>
    private async Task<string?> StoreWithRetryAsync(int round, Action write, CancellationToken cancellationToken)
    {
        var started = _clock.GetTimestamp();
        var pause = TimeSpan.FromMilliseconds(100);
        try
        {
            while (true)
            {
                try
                {
                    write();
                    return null;
                }
                catch (SqliteException ex)
                {
                    var error = $"SQLite error {ex.SqliteErrorCode}: {ex.Message}";
                    if (_clock.GetElapsedTime(started) >= _options.StorageRetry || cancellationToken.IsCancellationRequested) return error;
                    if (!IsWaitingForStorage) LogWaitingForStorage(round, ex.SqliteErrorCode, _options.StorageRetry.TotalSeconds);
                    IsWaitingForStorage = true;
                }

                await Task.Delay(pause, _clock, CancellationToken.None).ConfigureAwait(false);
                pause = TimeSpan.FromMilliseconds(Math.Min(pause.TotalMilliseconds * 2, 2000));
            }
        }
        finally
        {
            IsWaitingForStorage = false;
        }
    }

    private async Task TrySendAsync(PendingRound pending, TrainingInstruction instruction, CancellationToken cancellationToken)
    {
        try
        {
            pending.AddDownlink(await SendInstructionAsync(pending.Round, instruction, pending.Deadline, cancellationToken).ConfigureAwait(false));
        }
        catch (Exception ex) when (ex is InvalidOperationException or MQTTnet.Exceptions.MqttCommunicationException or WireFormatException)
        {
            // A device that is offline now gets its assignment again when it says hello.
            pending.MarkMayLackAssignment(instruction.DeviceId);
            LogAssignmentNotSent(instruction.DeviceId, pending.Round, ex.Message);
        }
    }

    private void OnDeviceOffline(FleetDevice device)
    {
        if (_pending is not { } pending) return;
        if (_options.OfflineGrace <= TimeSpan.Zero)
        {
            pending.Fail(device.DeviceId, "device went offline during the round");
            return;
        }

        if (pending.MarkAway(device.DeviceId) is { } absence) _ = FailIfStillAwayAsync(pending, device.DeviceId, absence);
    }

    private async Task FailIfStillAwayAsync(PendingRound pending, string deviceId, int absence)
    {
        try
        {
            await Task.Delay(_options.OfflineGrace, _clock, _stopping.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return;
        }

        if (pending.IsStillAway(deviceId, absence))
            pending.Fail(deviceId, $"device went offline during the round and did not return within {_options.OfflineGrace.TotalSeconds:0.#} s");
    }

    private void OnDeviceOnline(FleetDevice device)
    {
        if (_pending is not { } pending) return;
        pending.MarkBack(device.DeviceId);
        // Only a device that was away (or may have missed its assignment) gets it again; one that is online and training is left alone.
        if (pending.TakeResend(device.DeviceId) && pending.Instructions.TryGetValue(device.DeviceId, out var instruction))
            _ = TrySendAsync(pending, instruction, _stopping.Token);
    }

    /// <summary>Publishes the start adapter (when there is one) and the assignment; returns the payload bytes sent.</summary>
    private async Task<long> SendInstructionAsync(int round, TrainingInstruction instruction, DateTimeOffset deadline, CancellationToken cancellationToken)
    {
        long bytes = 0;
        byte[]? start = null;
        if (instruction.TrainsFullModel && instruction.StartFrom.FullWeights.Count > 0)
            start = AdapterBundleWriter.WriteFullWeights(instruction.StartFrom.FullWeights, _layout, round - 1, instruction.Precision, _options.BaseModelId).Encode();
        else if (!instruction.TrainsFullModel && instruction.StartFrom.Adapters.Count > 0)
            start = AdapterBundleWriter.Write(instruction.StartFrom.Adapters, round - 1, instruction.Precision, _options.BaseModelId).Encode();
        if (start is not null)
        {
            await _mqtt.PublishBytesAsync(Topics.Device(instruction.DeviceId, DeviceTopic.Adapter), start, cancellationToken: cancellationToken).ConfigureAwait(false);
            bytes += start.Length;
        }

        var assignment = WireMessages.Encode(new TrainingAssignment
        {
            Round = round,
            Mode = instruction.TrainsFullModel ? TrainingScope.Full : TrainingScope.Lora,
            Rank = instruction.TrainsFullModel ? 0 : instruction.Rank,
            LoraAlpha = instruction.TrainsFullModel ? null : instruction.LoraAlpha,
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
        return new FleetMember(device.DeviceId, hello.Tier, hello.MaxLoraRank, hello.Precisions, layers, 0) { MemoryBytes = hello.MemoryBytes };
    }

    private static string? Mismatch(LoraUpdateHeader header, TrainingInstruction instruction, DeviceHello? capabilities)
    {
        var assignedMode = instruction.TrainsFullModel ? TrainingScope.Full : TrainingScope.Lora;
        if (header.ModeOrDefault() != assignedMode)
            return $"mode {WireMessages.EnumName(header.ModeOrDefault())}, assigned {WireMessages.EnumName(assignedMode)}";
        if (capabilities is not null && header.Rank > capabilities.MaxLoraRank)
            return $"rank {header.Rank} exceeds the declared maximum LoRA rank {capabilities.MaxLoraRank}";
        if (capabilities is not null && !capabilities.Precisions.Contains(header.Precision))
            return $"precision {WireMessages.EnumName(header.Precision)} is not among the declared precisions";
        if (header.Rank != instruction.Rank) return $"rank {header.Rank}, assigned {instruction.Rank}";
        if (header.Precision != instruction.Precision) return $"precision {WireMessages.EnumName(header.Precision)}, assigned {WireMessages.EnumName(instruction.Precision)}";
        // A device may adapt fewer projections or layers than assigned (an ESP32 holds only what fits); never others.
        if (header.Layers.Count == 0 || header.Layers.Except(instruction.Layers).Any())
            return $"layers [{string.Join(",", header.Layers)}] are not within the assigned [{string.Join(",", instruction.Layers)}]";
        return null;
    }

    /// <summary>
    /// A LoRA update may carry fewer projections than its start adapter (an ESP32 trains only what fits), never one
    /// outside it: the per-device plan (<see cref="TrainingInstruction.AssignedProjections"/>) is what the device was sent.
    /// </summary>
    private static string? UnassignedProjection(TrainingReply reply, TrainingInstruction instruction)
    {
        if (instruction.TrainsFullModel)
            return null;
        var assigned = instruction.AssignedProjections;
        return reply.Trained.Adapters.Keys.Order(StringComparer.Ordinal).FirstOrDefault(name => !assigned.Contains(name)) is { } unassigned
            ? $"adapter {unassigned} is not among the assigned projections [{string.Join(",", assigned.Order(StringComparer.Ordinal))}]"
            : null;
    }

    /// <summary>Updates that arrived well-formed but failed the strategy's validation: ledger, device, events topic and log.</summary>
    private async Task RejectInvalidUpdatesAsync(int round, IReadOnlyList<TrainingReply> replies, IReadOnlyList<RejectedReply> rejected)
    {
        foreach (var rejection in rejected)
        {
            var bytes = replies.FirstOrDefault(r => r.DeviceId == rejection.DeviceId)?.UplinkBytes ?? 0;
            var topic = Topics.Device(rejection.DeviceId, DeviceTopic.Update);
            _ledger.Record(new LedgerEntry(_clock.GetUtcNow(), rejection.DeviceId, round, topic, bytes, LedgerOutcome.Rejected, $"{WireMessages.EnumName(RejectionReason.InvalidUpdate)}: {rejection.Reason}"));
            await _rejections.RejectAsync(new DeviceMessage(rejection.DeviceId, DeviceTopic.Update, topic, [], null, null), RejectionReason.InvalidUpdate, rejection.Reason, round: round).ConfigureAwait(false);
        }
    }

    private async Task RejectUpdateAsync(DeviceMessage message, int? round, RejectionReason reason, string detail)
    {
        _ledger.Record(new LedgerEntry(_clock.GetUtcNow(), message.DeviceId, round, message.Topic, message.Payload.Length, LedgerOutcome.Rejected, $"{WireMessages.EnumName(reason)}: {detail}"));
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

    [LoggerMessage(Level = LogLevel.Information, Message = "Round {Round} started with strategy {Strategy}: {Devices} devices assigned")]
    private partial void LogRoundStarted(int round, string strategy, int devices);

    [LoggerMessage(Level = LogLevel.Information, Message = "Round {Round} aggregated {Updates} updates ({Failures} failures); uplink {UplinkBytes} B, downlink {DownlinkBytes} B")]
    private partial void LogRoundAggregated(int round, int updates, int failures, long uplinkBytes, long downlinkBytes);

    [LoggerMessage(Level = LogLevel.Information, Message = "Round {Round}: device {DeviceId} not selected by {Strategy}: {Reason}")]
    private partial void LogNotSelected(int round, string deviceId, string strategy, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Round {Round} failed: {Reason}")]
    private partial void LogRoundFailed(int round, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Rounds} rounds were interrupted by a restart and are marked failed")]
    private partial void LogInterrupted(int rounds);

    [LoggerMessage(Level = LogLevel.Information, Message = "Resumed from round {Round} ({Aggregated} aggregated rounds)")]
    private partial void LogResumed(int round, int aggregated);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Round {Round} ({Strategy}) re-opened after a restart: {Kept} of {Assigned} updates kept, deadline {Deadline}")]
    private partial void LogRoundReopened(int round, string strategy, int kept, int assigned, DateTimeOffset deadline);

    [LoggerMessage(Level = LogLevel.Error, Message = "Update of {DeviceId} for round {Round} could not be stored ({Error}); rejected, not accepted")]
    private partial void LogUpdateNotStored(string deviceId, int round, string error);

    [LoggerMessage(Level = LogLevel.Error, Message = "Round {Round} could not be opened: the database refused its plan (SQLite error {SqliteError})")]
    private partial void LogRoundNotOpened(Exception exception, int round, int sqliteError);

    [LoggerMessage(Level = LogLevel.Error, Message = "Round {Round} cannot store its outcome (SQLite error {SqliteError}); retrying for up to {RetrySeconds} s")]
    private partial void LogWaitingForStorage(int round, int sqliteError, double retrySeconds);

    [LoggerMessage(Level = LogLevel.Error, Message = "The failure of round {Round} could not be stored (SQLite error {SqliteError})")]
    private partial void LogFailureNotStored(Exception exception, int round, int sqliteError);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Assignment of {DeviceId} for round {Round} not sent now ({Error}); it is sent again when the device says hello")]
    private partial void LogAssignmentNotSent(string deviceId, int round, string error);
}
