using System.Collections.Concurrent;
using System.Diagnostics;
using EdgeLam.Contracts.Wire;
using EdgeLam.Gateway.Fleet;
using EdgeLam.Gateway.Inference.Scheduling;
using EdgeLam.Model.Onnx;
using Microsoft.Extensions.Options;

namespace EdgeLam.Gateway.Inference;

/// <summary>
/// Serves inference requests over the fleet (Algorithm 2): each request becomes a chain of stage tasks
/// (embed, block0.., head); per task the QoS filter keeps the feasible (variant, device) pairs and the selected
/// policy picks one; the task is dispatched over MQTT, re-dispatched to another candidate when its device times
/// out, fails or vanishes. Requests in flight at once form a pipeline across the devices.
/// </summary>
public sealed class InferenceOrchestrator : IDisposable
{
    /// <summary>How often the scheduler folds heartbeat queue lengths into Q_d.</summary>
    private static readonly TimeSpan HeartbeatRefresh = TimeSpan.FromMilliseconds(500);

    /// <summary>Device id reported for stages the cloud baseline runs at the gateway.</summary>
    public const string GatewayDeviceId = "gateway";

    private readonly PlacementPlanner _planner;
    private readonly DeviceRegistry _registry;
    private readonly ServicePerformance _performance;
    private readonly StageDispatcher _dispatcher;
    private readonly TimeProvider _clock;
    private readonly InferenceOptions _options;
    private readonly ConcurrentDictionary<string, DeviceLoad> _loads = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<InferenceRecord> _records = new();
    private readonly RoundRobinPolicy _roundRobin = new();
    private readonly MonolithicPolicy _monolithic = new();
    private readonly Lock _cloudGate = new();
    private OnnxStageSession? _cloudSession;
    private byte[]? _cloudModel;
    private long _requestSequence;
    private long _fleetVersion;
    private (long Version, ServicePortfolio Portfolio, CandidateIndex Index, Dictionary<(string VariantId, string DeviceId), int> Slots)? _index;
    private long _heartbeatsReadAt;

    public InferenceOrchestrator(PlacementPlanner planner, DeviceRegistry registry, ServicePerformance performance, StageDispatcher dispatcher,
        VirtualQueues queues, IOptions<InferenceOptions> options, TimeProvider clock)
    {
        ArgumentNullException.ThrowIfNull(options);
        _planner = planner;
        _registry = registry;
        _performance = performance;
        _dispatcher = dispatcher;
        Queues = queues;
        _clock = clock;
        _options = options.Value;
        Strategy = _options.Strategy;
        DriftPlusPenalty = new DriftPlusPenaltyPolicy(_options.Tradeoff, new PerformanceWeights(_options.LatencyWeight, _options.EnergyWeight));
        registry.DeviceOffline += device =>
        {
            Interlocked.Increment(ref _fleetVersion);
            dispatcher.DeviceVanished(device.DeviceId);
        };
        registry.DeviceOnline += _ => Interlocked.Increment(ref _fleetVersion);
        planner.PlacementChanged += _ => Interlocked.Increment(ref _fleetVersion);
    }

    /// <summary>Strategy of requests that name none.</summary>
    public InferenceStrategy Strategy { get; set; }

    /// <summary>The drift-plus-penalty policy; set its <see cref="DriftPlusPenaltyPolicy.Tradeoff"/> (V) to sweep.</summary>
    public DriftPlusPenaltyPolicy DriftPlusPenalty { get; }

    /// <summary>Virtual queues of the time-average latency and accuracy constraints.</summary>
    public VirtualQueues Queues { get; }

    /// <summary>Served requests, oldest first (bounded by <see cref="InferenceOptions.RecordsKept"/>).</summary>
    public IReadOnlyList<InferenceRecord> Records => _records.ToArray();

    /// <summary>The weights of the performance cost.</summary>
    public PerformanceWeights Weights => new(_options.LatencyWeight, _options.EnergyWeight);

    /// <summary>The whole FP32 model the cloud baseline runs at the gateway.</summary>
    public void UseCloudModel(byte[] wholeFp32Model)
    {
        ArgumentNullException.ThrowIfNull(wholeFp32Model);
        lock (_cloudGate)
        {
            _cloudSession?.Dispose();
            _cloudSession = null;
            _cloudModel = wholeFp32Model;
        }
    }

    /// <summary>Backlog Q_d the scheduler sees for a device: expected work of its tasks in flight plus queued tasks it reports beyond them.</summary>
    public double BacklogMilliseconds(string deviceId) => _loads.TryGetValue(deviceId, out var load) ? load.BacklogMilliseconds : 0;

    /// <summary>Stage tasks dispatched to a device and not answered yet.</summary>
    public int TasksInFlight(string deviceId) => _loads.TryGetValue(deviceId, out var load) ? load.InFlightTasks : 0;

    /// <summary>Runs one image through the model with the current strategy.</summary>
    public Task<InferenceResult> InferAsync(float[] pixels, QosRequirement qos, CancellationToken cancellationToken) =>
        InferAsync(pixels, qos, Strategy, cancellationToken);

    /// <summary>Runs one image through the model with <paramref name="strategy"/>; failures come back as a result with a reason.</summary>
    public async Task<InferenceResult> InferAsync(float[] pixels, QosRequirement qos, InferenceStrategy strategy, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(pixels);
        ArgumentNullException.ThrowIfNull(qos);
        qos.Validate();
        var portfolio = _planner.Portfolio ?? throw new InvalidOperationException("No portfolio is placed yet: start the placement planner first.");
        if (pixels.Length != portfolio.PixelsPerImage)
            throw new ArgumentException($"An image has {portfolio.PixelsPerImage} pixels; got {pixels.Length}.", nameof(pixels));
        var requestId = Interlocked.Increment(ref _requestSequence);
        var received = _clock.GetUtcNow();
        var result = strategy == InferenceStrategy.Cloud
            ? RunInCloud(portfolio, pixels, qos)
            : await RunOnFleetAsync(portfolio, pixels, qos, strategy, cancellationToken).ConfigureAwait(false);
        if (result.Succeeded)
            Queues.Update(result.LatencyMilliseconds, qos.MaximumLatencyMilliseconds, result.AccuracyEstimate, qos.MinimumAccuracy);
        _records.Enqueue(new InferenceRecord(requestId, received, qos, result));
        while (_records.Count > _options.RecordsKept && _records.TryDequeue(out _)) { }
        return result;
    }

    private ISchedulingPolicy PolicyFor(InferenceStrategy strategy) => strategy switch
    {
        InferenceStrategy.DriftPlusPenalty => DriftPlusPenalty,
        InferenceStrategy.Greedy => new GreedyPolicy(),
        InferenceStrategy.RoundRobin => _roundRobin,
        InferenceStrategy.Monolithic => _monolithic,
        _ => throw new ArgumentOutOfRangeException(nameof(strategy), strategy, "Not a fleet strategy."),
    };

    private async Task<InferenceResult> RunOnFleetAsync(ServicePortfolio portfolio, float[] pixels, QosRequirement qos, InferenceStrategy strategy, CancellationToken cancellationToken)
    {
        var policy = strategy == InferenceStrategy.DriftPlusPenalty ? null : PolicyFor(strategy);
        var started = _clock.GetTimestamp();
        var chosen = new List<SchedulingCandidate>();
        var placements = new List<StagePlacement>();
        var frame = TensorFrame.FromFloats(pixels, [1, pixels.Length]);
        var latencyRelaxed = false;
        var chosenAccuracyDrop = 0.0;
        for (var stage = 0; stage < portfolio.Stages.Count; stage++)
        {
            HashSet<string>? excluded = null;
            StageReply? reply = null;
            var failures = new List<string>();
            for (var attempt = 1; attempt <= _options.MaxAttemptsPerStage && reply is null; attempt++)
            {
                var elapsed = _clock.GetElapsedTime(started).TotalMilliseconds;
                var (choice, relaxed, refusal) = Decide(portfolio, stage, chosen, chosenAccuracyDrop, qos, elapsed, policy, excluded);
                if (choice is null)
                {
                    failures.Add(refusal ?? "no feasible pair");
                    break;
                }

                latencyRelaxed |= relaxed;
                var deviceId = choice.Device.DeviceId;
                var remaining = TimeSpan.FromMilliseconds(Math.Max(0, qos.MaximumLatencyMilliseconds - elapsed));
                var deadline = _clock.GetUtcNow() + (remaining > _options.StageTimeout ? remaining : _options.StageTimeout);
                var load = LoadOf(deviceId);
                load.AddInFlight(choice.ServiceMilliseconds, +1);
                try
                {
                    reply = await _dispatcher.DispatchAsync(deviceId, choice.Variant, ActivationFrames.ForNextStage(frame, chosen.Count == 0 ? null : chosen[^1].Variant, choice.Variant), deadline, _options.StageTimeout, cancellationToken).ConfigureAwait(false);
                }
                catch (StageDispatchException exception)
                {
                    failures.Add(exception.Message);
                    (excluded ??= new HashSet<string>(StringComparer.Ordinal)).Add(deviceId);
                }
                finally
                {
                    load.AddInFlight(-choice.ServiceMilliseconds, -1);
                }

                if (reply is not null)
                {
                    var compute = reply.Header.ComputeMilliseconds;
                    // What a task occupies the device for, as the gateway sees it: compute plus decoding, encoding and
                    // publishing the result, without the queue wait the device reported. Compute alone undercounts Q_d.
                    var occupancy = Math.Max(compute, reply.RoundTripMilliseconds - reply.Header.QueueWaitMilliseconds);
                    Observe(choice, occupancy, reply.Header.QueueLength);
                    placements.Add(new StagePlacement(choice.Variant.StageId, choice.Variant.VariantId, deviceId, compute, reply.Header.QueueWaitMilliseconds,
                        reply.RoundTripMilliseconds, attempt, ServicePerformance.ModelledEnergyMillijoules(compute, choice.Device.BusyWatts)));
                    chosen.Add(choice);
                    chosenAccuracyDrop += choice.Variant.SwappedAccuracy - portfolio.ReferenceAccuracy;
                    frame = reply.Output;
                }
            }

            if (reply is null)
            {
                var reason = $"stage {portfolio.Stages[stage]}: {string.Join("; ", failures)}";
                return new InferenceResult(false, -1, [], _clock.GetElapsedTime(started).TotalMilliseconds, placements,
                    portfolio.ChainAccuracyEstimate(chosen.Select(c => c.Variant)), false, strategy, reason);
            }
        }

        var logits = frame.Dequantize();
        var latency = _clock.GetElapsedTime(started).TotalMilliseconds;
        var accuracy = portfolio.ChainAccuracyEstimate(chosen.Select(c => c.Variant));
        var qosMet = !latencyRelaxed && latency <= qos.MaximumLatencyMilliseconds && accuracy >= qos.MinimumAccuracy;
        return new InferenceResult(true, ArgMax(logits), logits, latency, placements, accuracy, qosMet, strategy, null);
    }

    /// <summary>
    /// One stage decision: drift-plus-penalty on the candidate index's allocation-free path, a baseline policy on the
    /// plain QoS filter over the same pairs.
    /// </summary>
    private (SchedulingCandidate? Choice, bool LatencyRelaxed, string? Refusal) Decide(ServicePortfolio portfolio, int stage, List<SchedulingCandidate> chosen,
        double chosenAccuracyDrop, QosRequirement qos, double elapsed, ISchedulingPolicy? policy, HashSet<string>? excluded)
    {
        var index = CurrentIndex(portfolio);
        if (policy is null)
        {
            var mask = excluded is null ? default : index.ExcludedSlots(excluded);
            var slot = index.ChooseDriftPlusPenalty(stage, chosenAccuracyDrop, qos, elapsed, Queues.State, DriftPlusPenalty.Tradeoff, Weights, mask, out var relaxed, out var reason);
            return slot < 0 ? (null, false, reason) : (index.Candidate(slot), relaxed, null);
        }

        var decision = new StageDecision(portfolio, stage, chosen, qos, elapsed, index.Pairs(), Queues.State);
        var filtering = CandidateFilter.Filter(decision, excluded);
        if (filtering.Feasible.Count == 0) return (null, false, filtering.Reason ?? "no feasible pair");
        var choice = policy.Choose(decision, filtering.Feasible);
        return choice is null ? (null, false, $"policy {policy.Name} refused every feasible pair") : (choice, filtering.LatencyRelaxed, null);
    }

    /// <summary>Folds a served task's service time and reported queue into the performance table, the index and Q_d.</summary>
    private void Observe(SchedulingCandidate choice, double serviceMilliseconds, int reportedQueue)
    {
        var deviceId = choice.Device.DeviceId;
        _performance.RecordObservation(choice.Variant.VariantId, deviceId, serviceMilliseconds);
        var service = _performance.Latency(choice.Variant, deviceId, 1).Milliseconds;
        if (_index is { } current && current.Slots.TryGetValue((choice.Variant.VariantId, deviceId), out var slot))
            current.Index.UpdateService(slot, service, ServicePerformance.ModelledEnergyMillijoules(service, choice.Device.BusyWatts));
        LoadOf(deviceId).Report(reportedQueue, service);
    }

    private DeviceLoad LoadOf(string deviceId) => _loads.GetOrAdd(deviceId, _ => new DeviceLoad());

    private InferenceResult RunInCloud(ServicePortfolio portfolio, float[] pixels, QosRequirement qos)
    {
        OnnxStageSession session;
        lock (_cloudGate)
        {
            var model = _cloudModel ?? throw new InvalidOperationException("The cloud baseline has no model: call UseCloudModel with the whole FP32 model.");
            session = _cloudSession ??= new OnnxStageSession(model);
        }

        var started = Stopwatch.GetTimestamp();
        var logits = session.Run(pixels, [1, pixels.Length]);
        var compute = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        var wan = ModelledWanMilliseconds(pixels.Length, logits.Length);
        var accuracy = portfolio.WholeModelAccuracy.TryGetValue(Model.Variants.ModelVariant.Fp32, out var whole) ? whole : portfolio.ReferenceAccuracy;
        var latency = compute + wan;
        return new InferenceResult(true, ArgMax(logits), logits, latency,
            [new StagePlacement("model", "model-fp32", GatewayDeviceId, compute, 0, compute, 1, 0)],
            accuracy, latency <= qos.MaximumLatencyMilliseconds && accuracy >= qos.MinimumAccuracy, InferenceStrategy.Cloud, null, wan);
    }

    /// <summary>Modelled WAN time of one cloud request: the round trip plus the FP32 image up and the logits down at the modelled bandwidth.</summary>
    public double ModelledWanMilliseconds(int inputValues, int outputValues)
    {
        var transfer = _options.ModelledWanMegabitsPerSecond > 0
            ? 8.0 * sizeof(float) * (inputValues + outputValues) / (_options.ModelledWanMegabitsPerSecond * 1e6) * 1000
            : 0;
        return _options.ModelledWanRoundTrip.TotalMilliseconds + transfer;
    }

    /// <summary>The candidate index of the current fleet and placement, rebuilt when a device comes or goes or a placement changes.</summary>
    private CandidateIndex CurrentIndex(ServicePortfolio portfolio)
    {
        var version = Interlocked.Read(ref _fleetVersion);
        var now = _clock.GetTimestamp();
        if (_clock.GetElapsedTime(Interlocked.Read(ref _heartbeatsReadAt), now) > HeartbeatRefresh)
        {
            Interlocked.Exchange(ref _heartbeatsReadAt, now);
            foreach (var device in _registry.Devices)
                if (device.LastHeartbeat is { } heartbeat) LoadOf(device.DeviceId).Report(heartbeat.QueueLength, -1);
        }

        if (_index is { } current && current.Version == version && ReferenceEquals(current.Portfolio, portfolio)) return current.Index;
        var pairs = new List<IndexedPair>();
        foreach (var device in _registry.Devices)
        {
            var hello = device.Capabilities;
            var loaded = portfolio.All.Where(v => _planner.IsLoaded(device.DeviceId, v.VariantId))
                .Select(v => (Variant: v, Service: _performance.Latency(v, device.DeviceId, hello.MacsPerSecond).Milliseconds)).ToArray();
            if (loaded.Length == 0) continue;
            var load = LoadOf(device.DeviceId);
            load.Report(device.LastHeartbeat?.QueueLength ?? 0, loaded.Average(x => x.Service));
            var snapshot = new DeviceSnapshot(device.DeviceId, device.Online, hello.Precisions, hello.MemoryBytes, hello.PowerWatts, 0);
            pairs.AddRange(loaded.Select(x => new IndexedPair(x.Variant, snapshot, load, x.Service, ServicePerformance.ModelledEnergyMillijoules(x.Service, hello.PowerWatts))));
        }

        var index = new CandidateIndex(portfolio, pairs);
        var slots = new Dictionary<(string VariantId, string DeviceId), int>();
        for (var slot = 0; slot < pairs.Count; slot++) slots[(pairs[slot].Variant.VariantId, pairs[slot].Device.DeviceId)] = slot;
        _index = (version, portfolio, index, slots);
        return index;
    }

    private static int ArgMax(float[] values)
    {
        var best = 0;
        for (var i = 1; i < values.Length; i++)
            if (values[i] > values[best]) best = i;
        return values.Length == 0 ? -1 : best;
    }

    public void Dispose()
    {
        lock (_cloudGate) _cloudSession?.Dispose();
    }
}
