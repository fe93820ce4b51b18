using System.Collections.Concurrent;
using System.Text.Json;
using EdgeLam.Contracts.Messages;
using EdgeLam.Contracts.Wire;
using EdgeLam.Gateway.Api;
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
/// <param name="ArtifactBytes">Bytes of the deployed artifact (ONNX model or firmware stage blob) the device loads and SHA-256-checks.</param>
public sealed record Placement(string DeviceId, string VariantId, PlacementState State, long MemoryBytes, string? Error, long ArtifactBytes = 0);

/// <summary>
/// Places variants on devices within their memory budgets and keeps the placement current as devices come and go:
/// on hello it deploys (every stage covered first by the smallest variant the device runs, then more accurate
/// variants while memory lasts), on offline it drops the device's placements, and it tracks deployment acks.
/// With <see cref="StageReplicas"/> set, each device holds only its share of the stages (<see cref="StageAssignment"/>), each
/// stage in one variant sized to <see cref="MinimumAccuracy"/> (<see cref="ServicePortfolio.SizedChain"/>), the bytes spread
/// over the fleet; every join or leave re-balances: stages of a vanished device are deployed elsewhere, a new device takes a share.
/// </summary>
public sealed partial class PlacementPlanner(GatewayMqttClient mqtt, DeviceRegistry registry, ServicePerformance performance, ArtifactStore artifactServer, ILogger<PlacementPlanner> logger)
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
    private readonly Lock _rebalanceGate = new();

    /// <summary>Devices that hold each stage; 0 places every stage on every device that can hold it.</summary>
    public int StageReplicas { get; private set; }

    /// <summary>Accuracy floor the partitioned placement sizes its one variant per stage to.</summary>
    public double MinimumAccuracy { get; private set; }

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
            _artifacts = artifacts as CachedStageArtifacts ?? new CachedStageArtifacts(artifacts);
        }

        registry.DeviceOnline += device => _ = PlaceOnDeviceAsync(device, CancellationToken.None);
        registry.DeviceOffline += device =>
        {
            DropDevice(device.DeviceId);
            _ = RebalanceAsync(CancellationToken.None);
        };
        await RebalanceAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Switches between every stage on every device (0) and each stage on <paramref name="replicas"/> devices, then re-balances.</summary>
    public Task UseStageReplicasAsync(int replicas, CancellationToken cancellationToken = default) =>
        UseStageReplicasAsync(replicas, MinimumAccuracy, cancellationToken);

    /// <summary>
    /// As <see cref="UseStageReplicasAsync(int, CancellationToken)"/>; a partitioned placement holds each stage in the one
    /// variant of the smallest chain whose accuracy estimate stays at or above <paramref name="minimumAccuracy"/>.
    /// </summary>
    public async Task UseStageReplicasAsync(int replicas, double minimumAccuracy, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(replicas);
        if (!(minimumAccuracy is >= 0 and <= 1)) throw new ArgumentOutOfRangeException(nameof(minimumAccuracy), minimumAccuracy, "An accuracy floor is 0..1.");
        StageReplicas = replicas;
        MinimumAccuracy = minimumAccuracy;
        if (_portfolio is not null) await RebalanceAsync(cancellationToken).ConfigureAwait(false);
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

    /// <summary>
    /// The variants a device gets: first every stage's smallest runnable variant, then more accurate ones while memory lasts;
    /// artifacts above <paramref name="maximumArtifactBytes"/> (the inline limit unless artifacts are served by url) are left out.
    /// With <paramref name="sized"/>, only that one variant per stage is a candidate.
    /// </summary>
    public static IReadOnlyList<(StageVariant Variant, byte[] Artifact)> Plan(ServicePortfolio portfolio, IStageArtifacts artifacts, DeviceHello device, IReadOnlySet<int>? stages = null,
        long maximumArtifactBytes = Deployment.MaxInlineBytes, IReadOnlyList<StageVariant>? sized = null)
    {
        ArgumentNullException.ThrowIfNull(portfolio);
        ArgumentNullException.ThrowIfNull(artifacts);
        ArgumentNullException.ThrowIfNull(device);
        var runnable = portfolio.All.Where(v => v.RunsOn(device.Precisions) && (stages is null || stages.Contains(v.StageIndex))
                && (sized is null || ReferenceEquals(sized[v.StageIndex], v)))
            .Select(v => (Variant: v, Artifact: artifacts.ArtifactFor(v, device.Tier)))
            .Where(x => x.Artifact is not null && x.Artifact.Length <= maximumArtifactBytes)
            .Select(x => (x.Variant, Artifact: x.Artifact!)).ToArray();
        var chosen = new List<(StageVariant, byte[])>();
        long used = 0;
        // An MCU is charged by the firmware's own static plan (resident weights plus the largest working set), so
        // the gateway places exactly what the device will admit.
        var mcuPlan = device.Tier == DeviceTier.L ? McuMemory.PlanFor(device) : null;
        bool Take((StageVariant Variant, byte[] Artifact) item)
        {
            if (mcuPlan is not null)
            {
                if (!McuMemory.TryAdmit(mcuPlan, item.Artifact)) return false;
                chosen.Add(item);
                return true;
            }

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

    /// <summary>Largest artifact placed: any model size while the gateway serves artifacts by url, else the inline limit.</summary>
    private long MaximumArtifactBytes => artifactServer.BaseAddress is null ? Deployment.MaxInlineBytes : Deployment.MaxModelBytes;

    /// <summary>Small artifacts travel inline; larger ones by url from the gateway's artifact endpoint (WIRE.md, Deployment).</summary>
    private Deployment DeploymentOf(StageVariant variant, byte[] artifact)
    {
        if (artifact.Length <= Deployment.MaxInlineBytes || artifactServer.Publish(artifact) is not { } url)
            return Deployment.Inline(variant.VariantId, variant.StageId, variant.Precision, artifact);
        return Deployment.ByUrl(variant.VariantId, variant.StageId, variant.Precision, url.AbsoluteUri, artifact);
    }

    /// <summary>Variants the device could run whose artifact exceeds the inline deployment limit (they need deployment by URL).</summary>
    public static IReadOnlyList<(string VariantId, int SizeBytes)> OversizedForInline(ServicePortfolio portfolio, IStageArtifacts artifacts, DeviceHello device)
    {
        ArgumentNullException.ThrowIfNull(portfolio);
        ArgumentNullException.ThrowIfNull(artifacts);
        ArgumentNullException.ThrowIfNull(device);
        return portfolio.All.Where(v => v.RunsOn(device.Precisions))
            .Select(v => (v.VariantId, Artifact: artifacts.ArtifactFor(v, device.Tier)))
            .Where(x => x.Artifact is not null && x.Artifact.Length > Deployment.MaxInlineBytes)
            .Select(x => (x.VariantId, x.Artifact!.Length)).ToArray();
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
        // A device that (re)joins starts with nothing loaded as far as the gateway knows.
        DropDevice(device.DeviceId);
        performance.Forget(device.DeviceId);
        // Without the artifact endpoint, stages too large for an inline deployment are not planned; say so once per join.
        if (artifactServer.BaseAddress is null)
        {
            foreach (var (variant, size) in OversizedForInline(_portfolio!, _artifacts!, device.Capabilities))
                LogTooLargeForInline(device.DeviceId, variant, size, Deployment.MaxInlineBytes);
        }

        await RebalanceAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Brings every online device to its planned variants: deploys what is missing, removes what it should no longer hold.</summary>
    private async Task RebalanceAsync(CancellationToken cancellationToken)
    {
        var portfolio = _portfolio!;
        var artifacts = _artifacts!;
        // The plan and the placement table change together; the messages go out after.
        var deploys = new List<(string DeviceId, StageVariant Variant, byte[] Artifact)>();
        var removals = new List<(string DeviceId, string VariantId)>();
        lock (_rebalanceGate)
        {
            var devices = registry.OnlineDevices;
            var sized = SizedChains(portfolio, devices);
            var stages = StagesPerDevice(portfolio, artifacts, devices, sized);
            foreach (var device in devices)
            {
                var plan = stages.TryGetValue(device.DeviceId, out var assigned)
                    ? Plan(portfolio, artifacts, device.Capabilities, assigned, MaximumArtifactBytes, sized?[device.DeviceId])
                    : [];
                var held = _placements.Keys.Where(k => k.DeviceId == device.DeviceId).Select(k => k.VariantId).ToHashSet(StringComparer.Ordinal);
                if (plan.Count == 0 && held.Count == 0) LogNothingToPlace(device.DeviceId);
                var missing = plan.Where(p => !held.Contains(p.Variant.VariantId)).ToArray();
                foreach (var (variant, artifact) in missing)
                {
                    lock (_gate)
                    {
                        if (_settled.Task.IsCompleted) _settled = NewSettled();
                        _placements[(device.DeviceId, variant.VariantId)] = new Placement(device.DeviceId, variant.VariantId, PlacementState.Pending, (long)MemoryPerModelByte * artifact.Length, null, artifact.Length);
                    }

                    deploys.Add((device.DeviceId, variant, artifact));
                }

                foreach (var variantId in held.Except(plan.Select(p => p.Variant.VariantId)).ToArray())
                {
                    if (!_placements.TryRemove((device.DeviceId, variantId), out var removed)) continue;
                    PlacementChanged?.Invoke(removed with { State = PlacementState.Failed, Error = "re-balanced away" });
                    removals.Add((device.DeviceId, variantId));
                }

                if (missing.Length > 0) LogPlaced(device.DeviceId, missing.Length);
            }
        }

        foreach (var (deviceId, variant, artifact) in deploys)
            await PublishDeploymentAsync(deviceId, variant.VariantId, DeploymentOf(variant, artifact), cancellationToken).ConfigureAwait(false);
        foreach (var (deviceId, variantId) in removals)
        {
            if (portfolio.TryFind(variantId, out var variant))
                await PublishDeploymentAsync(deviceId, null, new Deployment { VariantId = variantId, StageId = variant.StageId, Action = DeploymentAction.Remove }, cancellationToken).ConfigureAwait(false);
        }

        SignalIfSettled();
    }

    /// <summary>Per device, the one variant per stage a partitioned placement holds (sized among what it runs); null when every device holds every variant.</summary>
    private Dictionary<string, IReadOnlyList<StageVariant>>? SizedChains(ServicePortfolio portfolio, IReadOnlyList<FleetDevice> devices)
    {
        if (StageReplicas == 0) return null;
        var byPrecisions = new Dictionary<string, IReadOnlyList<StageVariant>>(StringComparer.Ordinal);
        return devices.ToDictionary(d => d.DeviceId, d =>
        {
            var key = string.Join(',', d.Capabilities.Precisions.Order());
            if (!byPrecisions.TryGetValue(key, out var chain)) byPrecisions[key] = chain = portfolio.SizedChain(MinimumAccuracy, d.Capabilities.Precisions);
            return chain;
        }, StringComparer.Ordinal);
    }

    /// <summary>Every stage for every device, or each device's share of the stages when <see cref="StageReplicas"/> is set.</summary>
    private Dictionary<string, IReadOnlySet<int>> StagesPerDevice(ServicePortfolio portfolio, IStageArtifacts artifacts, IReadOnlyList<FleetDevice> devices,
        Dictionary<string, IReadOnlyList<StageVariant>>? sized)
    {
        var all = Enumerable.Range(0, portfolio.Stages.Count).ToHashSet();
        if (StageReplicas == 0 || sized is null) return devices.ToDictionary(d => d.DeviceId, _ => (IReadOnlySet<int>)all, StringComparer.Ordinal);
        // An MCU is orders of magnitude slower than an agent: it stands by as a stage's second replica (failover), and its
        // calibrated latency decides whether the scheduler uses it while a serving replica is up.
        var hosts = devices.Select(d => new StageHost(d.DeviceId,
            all.Where(s => Plan(portfolio, artifacts, d.Capabilities, new HashSet<int> { s }, MaximumArtifactBytes, sized[d.DeviceId]).Count > 0).ToHashSet(),
            _placements.Values.Where(p => p.DeviceId == d.DeviceId && p.State != PlacementState.Failed && portfolio.TryFind(p.VariantId, out _))
                .Select(p => { portfolio.TryFind(p.VariantId, out var v); return v.StageIndex; }).ToHashSet(),
            Standby: d.Capabilities.Tier == DeviceTier.L)).ToArray();
        // A stage weighs the bytes of the variant a serving device holds it in.
        var weights = portfolio.SizedChain(MinimumAccuracy).Select(v => (double)v.SizeBytes).ToArray();
        return StageAssignment.Plan(weights, hosts, StageReplicas).ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);
    }

    /// <summary>Publishes a deploy or remove; a deploy that cannot be sent is marked failed.</summary>
    private async Task PublishDeploymentAsync(string deviceId, string? deployedVariantId, Deployment deployment, CancellationToken cancellationToken)
    {
        try
        {
            await mqtt.PublishAsync(Topics.Device(deviceId, DeviceTopic.Deploy), deployment, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is InvalidOperationException or MQTTnet.Exceptions.MqttCommunicationException)
        {
            if (deployedVariantId is not null)
                _placements[(deviceId, deployedVariantId)] = new Placement(deviceId, deployedVariantId, PlacementState.Failed, 0, exception.Message);
            else LogDeploymentFailed(deviceId, deployment.VariantId, "remove not sent: " + exception.Message);
        }
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

    [LoggerMessage(Level = LogLevel.Warning, Message = "Not placing {VariantId} on {DeviceId}: its {SizeBytes}-byte artifact exceeds the {InlineLimitBytes}-byte inline deployment limit and needs deployment by URL")]
    private partial void LogTooLargeForInline(string deviceId, string variantId, int sizeBytes, int inlineLimitBytes);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Device {DeviceId} failed to load {VariantId}: {Error}")]
    private partial void LogDeploymentFailed(string deviceId, string variantId, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Malformed deployment ack from {DeviceId}: {Reason}")]
    private partial void LogMalformedAck(string deviceId, string reason);
}
