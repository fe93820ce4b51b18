using System.Collections.Concurrent;
using System.Text.Json;
using EdgeLam.Contracts.Messages;
using EdgeLam.Contracts.Wire;
using EdgeLam.Gateway.Fleet;
using EdgeLam.Gateway.Messaging;
using Microsoft.Extensions.Logging;

namespace EdgeLam.Gateway.Inference;

/// <summary>State of one variant on one device.</summary>
public enum PlacementState
{
    /// <summary>Deployment published, no ack yet.</summary>
    Pending,
    /// <summary>The device acknowledged it loaded.</summary>
    Loaded,
    /// <summary>The device refused or failed to load it.</summary>
    Failed,
}

/// <summary>A variant placed (or being placed) on a device.</summary>
/// <param name="DeviceId">Device.</param>
/// <param name="VariantId">Variant.</param>
/// <param name="State">Where the deployment stands.</param>
/// <param name="MemoryBytes">Memory charged against the device budget (the device's figure once acknowledged).</param>
/// <param name="Error">Why it failed.</param>
public sealed record Placement(string DeviceId, string VariantId, PlacementState State, long MemoryBytes, string? Error);

/// <summary>
/// Places variants on devices within their memory budgets and keeps the placement current as devices come and go:
/// on hello it deploys (every stage covered first by the smallest variant the device runs, then more accurate
/// variants while memory lasts), on offline it drops the device's placements, and it tracks deployment acks.
/// </summary>
public sealed partial class PlacementPlanner(GatewayMqttClient mqtt, DeviceRegistry registry, ServicePerformance performance, ILogger<PlacementPlanner> logger)
{
    /// <summary>Name of the ack member with the latency the agent measured at load (WIRE.md: readers ignore unknown members).</summary>
    public const string CalibratedLatencyMember = "calibratedLatencyMilliseconds";

    /// <summary>The agent's memory estimate of a loaded ONNX variant: three times the model file (session, arena, weights).</summary>
    public const int MemoryPerModelByte = 3;

    private readonly ConcurrentDictionary<(string DeviceId, string VariantId), Placement> _placements = new();
    private readonly Lock _gate = new();
    private ServicePortfolio? _portfolio;
    private IStageArtifacts? _artifacts;
    private TaskCompletionSource _settled = NewSettled();

    /// <summary>The portfolio being placed; null before <see cref="Start"/>.</summary>
    public ServicePortfolio? Portfolio => _portfolio;

    /// <summary>Raised when a placement changes state (loaded, failed, dropped).</summary>
    public event Action<Placement>? PlacementChanged;

    /// <summary>Every placement now.</summary>
    public IReadOnlyList<Placement> Placements => _placements.Values.OrderBy(p => p.DeviceId, StringComparer.Ordinal).ThenBy(p => p.VariantId, StringComparer.Ordinal).ToArray();

    /// <summary>Starts placing <paramref name="portfolio"/> on the online fleet and on every device that joins later.</summary>
    public async Task StartAsync(ServicePortfolio portfolio, IStageArtifacts artifacts, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(portfolio);
        ArgumentNullException.ThrowIfNull(artifacts);
        lock (_gate)
        {
            if (_portfolio is not null) throw new InvalidOperationException("The placement planner is already started.");
            _portfolio = portfolio;
            _artifacts = artifacts;
        }

        registry.DeviceOnline += device => _ = PlaceOnDeviceAsync(device, CancellationToken.None);
        registry.DeviceOffline += device => DropDevice(device.DeviceId);
        foreach (var device in registry.OnlineDevices)
            await PlaceOnDeviceAsync(device, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>True when the device acknowledged loading the variant and is still placed.</summary>
    public bool IsLoaded(string deviceId, string variantId) =>
        _placements.TryGetValue((deviceId, variantId), out var placement) && placement.State == PlacementState.Loaded;

    /// <summary>Completes when no deployment is pending any more (or throws <see cref="TimeoutException"/>).</summary>
    public Task WaitUntilSettledAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            if (!_placements.Values.Any(p => p.State == PlacementState.Pending)) return Task.CompletedTask;
            return _settled.Task.WaitAsync(timeout, cancellationToken);
        }
    }

    /// <summary>The variants a device gets: first every stage's smallest runnable variant, then more accurate ones while memory lasts.</summary>
    public static IReadOnlyList<(StageVariant Variant, byte[] Artifact)> Plan(ServicePortfolio portfolio, IStageArtifacts artifacts, DeviceHello device)
    {
        ArgumentNullException.ThrowIfNull(portfolio);
        ArgumentNullException.ThrowIfNull(artifacts);
        ArgumentNullException.ThrowIfNull(device);
        var runnable = portfolio.All.Where(v => v.RunsOn(device.Precisions))
            .Select(v => (Variant: v, Artifact: artifacts.ArtifactFor(v, device.Tier)))
            .Where(x => x.Artifact is not null && x.Artifact.Length <= Deployment.MaxInlineBytes)
            .Select(x => (x.Variant, Artifact: x.Artifact!)).ToArray();
        var chosen = new List<(StageVariant, byte[])>();
        long used = 0;
        bool Take((StageVariant Variant, byte[] Artifact) item)
        {
            long need = (long)MemoryPerModelByte * item.Artifact.Length;
            if (used + need > device.MemoryBytes) return false;
            used += need;
            chosen.Add(item);
            return true;
        }

        var rest = new List<(StageVariant Variant, byte[] Artifact)>();
        foreach (var stage in runnable.GroupBy(x => x.Variant.StageIndex).OrderBy(g => g.Key))
        {
            var ordered = stage.OrderBy(x => x.Artifact.Length).ToArray();
            Take(ordered[0]);
            rest.AddRange(ordered.Skip(1));
        }

        foreach (var item in rest.OrderByDescending(x => x.Variant.SwappedAccuracy).ThenBy(x => x.Artifact.Length))
            Take(item);
        return chosen;
    }

    /// <summary>Handles deploy/ack; false for other leaves.</summary>
    public bool Handle(DeviceMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (message.Leaf != DeviceTopic.DeployAck) return false;
        DeploymentAck ack;
        double? calibrated = null;
        try
        {
            ack = WireMessages.Decode<DeploymentAck>(message.Payload);
            using var document = JsonDocument.Parse(message.Payload);
            if (document.RootElement.TryGetProperty(CalibratedLatencyMember, out var latency) && latency.ValueKind == JsonValueKind.Number)
                calibrated = latency.GetDouble();
        }
        catch (Exception exception) when (exception is WireFormatException or JsonException)
        {
            LogMalformedAck(message.DeviceId, exception.Message);
            return true;
        }

        var key = (message.DeviceId, ack.VariantId);
        if (!_placements.TryGetValue(key, out var placement)) return true;
        Placement updated = ack.Outcome switch
        {
            DeploymentOutcome.Loaded => placement with { State = PlacementState.Loaded, MemoryBytes = ack.MemoryBytes ?? placement.MemoryBytes },
            DeploymentOutcome.Failed => placement with { State = PlacementState.Failed, Error = ack.Error },
            _ => placement,
        };
        if (ack.Outcome == DeploymentOutcome.Removed) _placements.TryRemove(key, out _);
        else _placements[key] = updated;
        if (ack.Outcome == DeploymentOutcome.Loaded && calibrated is { } milliseconds && milliseconds >= 0)
            performance.RecordCalibration(ack.VariantId, message.DeviceId, milliseconds);
        if (ack.Outcome == DeploymentOutcome.Failed) LogDeploymentFailed(message.DeviceId, ack.VariantId, ack.Error ?? "");
        PlacementChanged?.Invoke(updated);
        SignalIfSettled();
        return true;
    }

    private async Task PlaceOnDeviceAsync(FleetDevice device, CancellationToken cancellationToken)
    {
        var portfolio = _portfolio!;
        var artifacts = _artifacts!;
        // A device that (re)joins starts with nothing loaded as far as the gateway knows.
        DropDevice(device.DeviceId);
        performance.Forget(device.DeviceId);
        var plan = Plan(portfolio, artifacts, device.Capabilities);
        if (plan.Count == 0)
        {
            LogNothingToPlace(device.DeviceId);
            return;
        }

        foreach (var (variant, artifact) in plan)
        {
            lock (_gate)
            {
                if (_settled.Task.IsCompleted) _settled = NewSettled();
                _placements[(device.DeviceId, variant.VariantId)] = new Placement(device.DeviceId, variant.VariantId, PlacementState.Pending, (long)MemoryPerModelByte * artifact.Length, null);
            }

            try
            {
                await mqtt.PublishAsync(Topics.Device(device.DeviceId, DeviceTopic.Deploy),
                    Deployment.Inline(variant.VariantId, variant.StageId, variant.Precision, artifact), cancellationToken: cancellationToken).ConfigureAwait(false);
            }
            catch (Exception exception) when (exception is InvalidOperationException or MQTTnet.Exceptions.MqttCommunicationException)
            {
                _placements[(device.DeviceId, variant.VariantId)] = new Placement(device.DeviceId, variant.VariantId, PlacementState.Failed, 0, exception.Message);
            }
        }

        LogPlaced(device.DeviceId, plan.Count);
        SignalIfSettled();
    }

    private void DropDevice(string deviceId)
    {
        foreach (var key in _placements.Keys.Where(k => k.DeviceId == deviceId).ToArray())
        {
            if (_placements.TryRemove(key, out var removed)) PlacementChanged?.Invoke(removed with { State = PlacementState.Failed, Error = "device offline" });
        }

        SignalIfSettled();
    }

    private void SignalIfSettled()
    {
        lock (_gate)
        {
            if (!_placements.Values.Any(p => p.State == PlacementState.Pending)) _settled.TrySetResult();
        }
    }

    private static TaskCompletionSource NewSettled() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    [LoggerMessage(Level = LogLevel.Information, Message = "Deploying {Count} variants to {DeviceId}")]
    private partial void LogPlaced(string deviceId, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "No variant of the portfolio fits device {DeviceId} (precision, memory or inline size)")]
    private partial void LogNothingToPlace(string deviceId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Device {DeviceId} failed to load {VariantId}: {Error}")]
    private partial void LogDeploymentFailed(string deviceId, string variantId, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Malformed deployment ack from {DeviceId}: {Reason}")]
    private partial void LogMalformedAck(string deviceId, string reason);
}
