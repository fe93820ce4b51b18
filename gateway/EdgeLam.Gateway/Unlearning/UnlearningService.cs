using System.Diagnostics;
using System.Text;
using System.Text.Json;
using EdgeLam.Contracts.Messages;
using EdgeLam.Contracts.Wire;
using EdgeLam.Gateway.Broker;
using EdgeLam.Gateway.Fleet;
using EdgeLam.Gateway.Messaging;
using EdgeLam.Gateway.Persistence;
using EdgeLam.Gateway.Training;
using EdgeLam.Gateway.Training.Rounds;
using EdgeLam.Gateway.Unlearning.Methods;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EdgeLam.Gateway.Unlearning;

/// <summary>What one unlearning run did, as recorded in the audit.</summary>
/// <param name="RelativeChange">‖ΔW_after − ΔW_before‖_F / ‖ΔW_before‖_F of the global adapters.</param>
/// <param name="DistanceToStoredHistory">Relative distance of the result to the replay of what the store keeps afterwards (0 for exact_recompute).</param>
public sealed record UnlearningReport(
    long AuditId,
    string DeviceId,
    string Method,
    string RequestedBy,
    int ContributionsRemoved,
    IReadOnlyList<int> RoundsAffected,
    int CalibrationRoundsAggregated,
    double RelativeChange,
    double DistanceToStoredHistory,
    bool CredentialsRevoked,
    double Seconds,
    string MetricsJson);

/// <summary>
/// Removes a device from the federation on a signed operator command: recomputes the global adapters
/// without it (subtract, exact_recompute, orthogonal or calibrated), deletes its stored contributions, revokes its
/// credentials and removes it from the registry, records an audit row, and reports every step as a
/// gateway event (unlearning-started, then unlearning-verified or unlearning-failed).
/// </summary>
public sealed partial class UnlearningService(
    GatewayMqttClient mqtt,
    GatewayStore store,
    CredentialStore credentials,
    DeviceRegistry registry,
    TrainingCoordinator coordinator,
    AdapterLayout layout,
    IOptions<TrainingOptions> trainingOptions,
    IOptions<UnlearningOptions> options,
    TimeProvider clock,
    ILogger<UnlearningService> logger) : IHostedService, IDisposable
{
    /// <summary>Tolerance of the exactness check of exact_recompute (dense entries, absolute).</summary>
    public const double ExactnessTolerance = 1e-6;

    private readonly SemaphoreSlim _oneAtATime = new(1, 1);
    private readonly ContributionHistory _history = new();
    private readonly HashSet<string> _executedCommands = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();
    private readonly List<Task> _running = [];

    /// <summary>Raised after each run that was started by a command, with its report or the reason it failed.</summary>
    public event Action<string, UnlearningReport?, string?>? CommandCompleted;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        mqtt.OperatorCommandReceived += HandleCommandAsync;
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        mqtt.OperatorCommandReceived -= HandleCommandAsync;
        Task[] running;
        lock (_gate) running = [.. _running];
        await Task.WhenAll(running).WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    public void Dispose() => _oneAtATime.Dispose();

    /// <summary>
    /// Handles a payload from edgelam/v1/gateway/command: refuses malformed, unsigned, badly signed, stale or
    /// repeated commands with an unlearning-failed event; starts accepted unlearn commands in the background
    /// (calibration rounds need the message loop this handler runs on).
    /// </summary>
    public async Task HandleCommandAsync(byte[] payload)
    {
        OperatorCommand command;
        try
        {
            command = WireMessages.Decode<OperatorCommand>(payload);
        }
        catch (WireFormatException ex)
        {
            await RefuseAsync(null, null, $"malformed operator command ({ex.Code}): {ex.Message}").ConfigureAwait(false);
            return;
        }

        if (command.Action != OperatorAction.Unlearn)
            return; // pause and resume belong to the training room
        if (options.Value.CommandSecret is not { } secret)
        {
            await RefuseAsync(command, command.DeviceId, "no Unlearning:CommandSecret is configured, so no command can be verified").ConfigureAwait(false);
            return;
        }

        try
        {
            OperatorCommandSignature.Verify(command, Encoding.UTF8.GetBytes(secret), clock.GetUtcNow(), options.Value.MaximumCommandAge);
        }
        catch (WireFormatException ex)
        {
            await RefuseAsync(command, command.DeviceId, ex.Message).ConfigureAwait(false);
            return;
        }

        bool first;
        lock (_gate) first = _executedCommands.Add(command.CommandId);
        if (!first)
        {
            await RefuseAsync(command, command.DeviceId, "this command id was already executed").ConfigureAwait(false);
            return;
        }

        var method = UnlearnCommandId.TryGetMethod(command.CommandId, out var named) ? named.Value : UnlearningMethodNames.Parse(options.Value.DefaultMethod);
        var run = Task.Run(() => RunCommandAsync(command, method));
        lock (_gate)
        {
            _running.RemoveAll(t => t.IsCompleted);
            _running.Add(run);
        }
    }

    /// <summary>Unlearns <paramref name="deviceId"/> with <paramref name="method"/>; throws when it cannot, after an unlearning-failed event.</summary>
    public async Task<UnlearningReport> UnlearnAsync(string deviceId, UnlearningMethod method, string requestedBy, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(deviceId);
        await _oneAtATime.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var methodName = UnlearningMethodNames.NameOf(method);
            LogStarted(deviceId, methodName, requestedBy);
            await PublishEventAsync(GatewayEventKind.UnlearningStarted, deviceId, $"{methodName} requested by {requestedBy}").ConfigureAwait(false);
            try
            {
                // Refused, not queued behind it: the round would aggregate into a global that unlearning is about to replace.
                if (coordinator.IsRoundRunning)
                    throw new InvalidOperationException($"round {coordinator.LastRound} is running; unlearning of '{deviceId}' is refused until it ends, and nothing was changed");
                RequireKnownDevice(deviceId);
                var report = await UnlearnCoreAsync(deviceId, method, methodName, requestedBy, cancellationToken).ConfigureAwait(false);
                LogVerified(deviceId, methodName, report.ContributionsRemoved, report.RelativeChange);
                await PublishEventAsync(GatewayEventKind.UnlearningVerified, deviceId,
                    $"{methodName}: removed {report.ContributionsRemoved} contributions from rounds [{string.Join(",", report.RoundsAffected)}]; "
                    + $"global changed by {report.RelativeChange:0.####} (relative); credentials revoked: {report.CredentialsRevoked}; audit #{report.AuditId}").ConfigureAwait(false);
                return report;
            }
            catch (Exception ex) when (ex is InvalidOperationException or InvalidDataException or ArgumentException or UnlearningVerificationException)
            {
                LogFailed(ex, deviceId, methodName);
                await PublishEventAsync(GatewayEventKind.UnlearningFailed, deviceId, $"{methodName}: {ex.Message}").ConfigureAwait(false);
                throw;
            }
        }
        finally
        {
            _oneAtATime.Release();
        }
    }

    private async Task<UnlearningReport> UnlearnCoreAsync(string deviceId, UnlearningMethod method, string methodName, string requestedBy, CancellationToken cancellationToken)
    {
        var stopwatch = Stopwatch.StartNew();
        var history = _history.Refresh(store);
        var strategies = store.Rounds().ToDictionary(r => r.Round, r => r.Strategy);
        var resolved = new Dictionary<string, IFederatedStrategy>(StringComparer.Ordinal);
        IFederatedStrategy StrategyOf(int round)
        {
            var name = strategies.TryGetValue(round, out var recorded) ? recorded : throw new InvalidDataException($"Contributions of round {round} have no round record.");
            if (!resolved.TryGetValue(name, out var strategy)) resolved[name] = strategy = StrategyCatalog.Resolve(name);
            return strategy;
        }

        var affected = history.Where(c => c.DeviceId == deviceId).Select(c => c.Round).ToArray();
        var hyper = Hyperparameters();
        var before = coordinator.Global;

        // Cut the device off first, so it cannot take part in calibration rounds or send anything more.
        var revoked = credentials.Revoke(deviceId);
        registry.Remove(deviceId);

        var calibrated = 0;
        GlobalModelState after;
        switch (method)
        {
            case UnlearningMethod.Subtract:
                after = ContributionSubtraction.Subtract(before, history, deviceId);
                break;
            case UnlearningMethod.ExactRecompute:
                after = _history.Recompute(store, deviceId, StrategyOf, layout, hyper);
                break;
            case UnlearningMethod.Orthogonal:
                after = _history.RecomputeWithoutReactions(store, deviceId, StrategyOf, layout, hyper);
                break;
            case UnlearningMethod.Calibrated:
                var replayed = _history.Recompute(store, deviceId, StrategyOf, layout, hyper);
                var lastStrategy = strategies.Count == 0 ? FedFtHName : strategies[strategies.Keys.Max()];
                coordinator.ReplaceGlobal(replayed);
                after = await CalibratedRecompute.RunAsync(replayed, options.Value.CalibrationRounds, async (_, _, token) =>
                {
                    var remaining = registry.OnlineDevices.Select(d => d.DeviceId).Where(id => id != deviceId).ToArray();
                    var outcome = await coordinator.RunRoundAsync(StrategyCatalog.Resolve(lastStrategy), lastStrategy, remaining, token).ConfigureAwait(false);
                    if (outcome.Aggregated) calibrated++;
                    return coordinator.Global;
                }, cancellationToken).ConfigureAwait(false);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(method), method, "Unknown unlearning method.");
        }

        foreach (var (name, factors) in after.Parameters.Adapters)
            factors.Validate(name);
        coordinator.ReplaceGlobal(after);
        var now = clock.GetUtcNow();
        var removed = store.ForgetDevice(deviceId, now);
        PersistGlobal(after);

        // Verification: nothing of the device is stored, its identity is banned, and the global is what the
        // remaining stored history gives (exactly, for exact_recompute; the gap is measured for the others).
        if (store.Contributions(deviceId).Count != 0 || !store.IsForgotten(deviceId) || registry.TryGet(deviceId, out _))
            throw new UnlearningVerificationException($"Device {deviceId} still has stored contributions, a registry entry or no ban after unlearning.");
        var remainingHistory = _history.Refresh(store);
        var reference = HistoryReplay.Replay(remainingHistory, null, StrategyOf, layout, hyper);
        var distanceToHistory = AdapterDistance.Relative(after.Parameters, reference.Parameters);
        if (method == UnlearningMethod.ExactRecompute && AdapterDistance.MaximumAbsoluteDifference(after.Parameters, reference.Parameters) > ExactnessTolerance)
            throw new UnlearningVerificationException($"exact_recompute differs from the replay of the remaining stored history by {distanceToHistory:E3} (relative).");
        var relativeChange = AdapterDistance.Relative(after.Parameters, before.Parameters);
        stopwatch.Stop();

        var metrics = JsonSerializer.Serialize(new
        {
            method = methodName,
            contributionsRemoved = removed,
            roundsAffected = affected,
            calibrationRoundsAggregated = calibrated,
            relativeChange,
            distanceToStoredHistory = distanceToHistory,
            credentialsRevoked = revoked,
            seconds = stopwatch.Elapsed.TotalSeconds,
        });
        var auditId = store.AppendUnlearningAudit(deviceId, methodName, requestedBy, metrics, now);
        return new UnlearningReport(auditId, deviceId, methodName, requestedBy, removed, affected, calibrated, relativeChange, distanceToHistory, revoked,
            stopwatch.Elapsed.TotalSeconds, metrics);
    }

    /// <summary>Refuses, before anything changes, an id the gateway has never seen as a device, one already unlearned, or another role's identity.</summary>
    private void RequireKnownDevice(string deviceId)
    {
        if (store.IsForgotten(deviceId))
            throw new ArgumentException($"device '{deviceId}' was already unlearned; nothing was changed");
        var identity = credentials.Records.FirstOrDefault(r => string.Equals(r.Name, deviceId, StringComparison.Ordinal));
        if (identity is not null && identity.Role != ClientRole.Device)
            throw new ArgumentException($"'{deviceId}' is the {identity.Role} identity, not a device; nothing was changed");
        if (identity is null && !registry.TryGet(deviceId, out _) && store.ContributionKeys().All(k => k.DeviceId != deviceId))
            throw new ArgumentException($"unknown device '{deviceId}': it is not enrolled, not registered and has no stored contributions; nothing was changed");
    }

    private const string FedFtHName = Training.Strategies.FedFtHStrategy.StrategyName;

    /// <summary>The latest completed round's stored global state becomes the unlearned one, so a restart resumes from it.</summary>
    private void PersistGlobal(GlobalModelState state)
    {
        var last = store.Rounds().LastOrDefault(r => r.State == "completed");
        if (last is null)
            return;
        store.CompleteRound(last.Round, [], ModelParametersCodec.Encode(state.Parameters, state.AggregatedRounds), last.MetricsJson, last.CompletedAt ?? clock.GetUtcNow());
    }

    private TrainingHyperparameters Hyperparameters()
    {
        var o = trainingOptions.Value;
        return new TrainingHyperparameters(o.LocalSteps, o.LearningRate, o.BatchSize, o.LoraAlpha, o.Seed);
    }

    private async Task RunCommandAsync(OperatorCommand command, UnlearningMethod method)
    {
        try
        {
            var report = await UnlearnAsync(command.DeviceId!, method, $"operator command {command.CommandId}").ConfigureAwait(false);
            CommandCompleted?.Invoke(command.CommandId, report, null);
        }
        catch (Exception ex) when (ex is InvalidOperationException or InvalidDataException or ArgumentException or UnlearningVerificationException
            or OperationCanceledException or MQTTnet.Exceptions.MqttCommunicationException)
        {
            // Already reported as unlearning-failed (or the gateway is stopping); the long-running process carries on.
            CommandCompleted?.Invoke(command.CommandId, null, ex.Message);
        }
    }

    private async Task RefuseAsync(OperatorCommand? command, string? deviceId, string reason)
    {
        var id = command?.CommandId ?? "(unreadable)";
        LogRefused(id, reason);
        var validDevice = deviceId is not null && Topics.IsValidDeviceId(deviceId) ? deviceId : null;
        await PublishEventAsync(GatewayEventKind.UnlearningFailed, validDevice, $"operator command {id} refused: {reason}").ConfigureAwait(false);
        CommandCompleted?.Invoke(id, null, reason);
    }

    private async Task PublishEventAsync(GatewayEventKind kind, string? deviceId, string detail)
    {
        try
        {
            await mqtt.PublishAsync(Topics.GatewayEvents, new GatewayEvent
            {
                Kind = kind,
                TimestampUnixMilliseconds = clock.GetUtcNow().ToUnixTimeMilliseconds(),
                DeviceId = deviceId,
                Detail = detail.Length <= 500 ? detail : detail[..500],
            }).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is InvalidOperationException or MQTTnet.Exceptions.MqttCommunicationException)
        {
            LogEventLost(ex, kind.ToString());
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Unlearning device {DeviceId} with {Method}, requested by {RequestedBy}")]
    private partial void LogStarted(string deviceId, string method, string requestedBy);

    [LoggerMessage(Level = LogLevel.Information, Message = "Unlearned device {DeviceId} with {Method}: {Removed} contributions removed, global changed by {Change} (relative)")]
    private partial void LogVerified(string deviceId, string method, int removed, double change);

    [LoggerMessage(Level = LogLevel.Error, Message = "Unlearning device {DeviceId} with {Method} failed")]
    private partial void LogFailed(Exception exception, string deviceId, string method);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Operator command {CommandId} refused: {Reason}")]
    private partial void LogRefused(string commandId, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Gateway event {Kind} could not be published")]
    private partial void LogEventLost(Exception exception, string kind);
}

/// <summary>A post-condition of unlearning did not hold; the run is reported as failed.</summary>
public sealed class UnlearningVerificationException(string message) : Exception(message);
