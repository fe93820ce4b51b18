using System.Diagnostics;
using EdgeLam.Gateway.Inference;
using EdgeLam.Model.Architecture;
using EdgeLam.Model.Data;
using EdgeLam.Model.Onnx;
using EdgeLam.Model.Variants;

namespace EdgeLam.Cli.Demo;

/// <summary>One inference strategy: its capacity, then latency, QoS, accuracy, energy and memory at the shared arrival rate.</summary>
/// <param name="Strategy">Strategy name.</param>
/// <param name="Layout">Placement it ran on: "whole" (every stage on every device) or "N per stage" (each stage on N devices).</param>
/// <param name="ThroughputPerSecond">Capacity: completed requests per second with <see cref="DemoSettings.InferenceConcurrency"/> requests kept in flight (measured).</param>
/// <param name="ArrivalRatePerSecond">Poisson arrival rate of the load run.</param>
/// <param name="LoadThroughputPerSecond">Completed requests per second during the load run.</param>
/// <param name="Requests">Requests of the load run.</param>
/// <param name="Failures">Load-run requests that failed.</param>
/// <param name="P50Milliseconds">Median latency of the load run (cloud: includes the modelled WAN).</param>
/// <param name="P95Milliseconds">95th percentile.</param>
/// <param name="P99Milliseconds">99th percentile.</param>
/// <param name="QosViolations">Load-run requests that failed or missed their latency or accuracy floor.</param>
/// <param name="Accuracy">Fraction of load-run requests whose prediction matched the label.</param>
/// <param name="ModelledEnergyMillijoulesPerRequest">Mean of compute time × board busy power over the stages (modelled).</param>
/// <param name="ModelledWanMilliseconds">Mean modelled WAN time per request (cloud only).</param>
/// <param name="PeakMemoryBytesPerDevice">Largest model bytes resident on one device (<see cref="InferenceExperiment.MemoryMethod"/>); 0 when no device served.</param>
/// <param name="MemoryBytesByDevice">Those bytes for every device counted.</param>
/// <param name="LatenciesMilliseconds">Sorted load-run latencies of the served requests.</param>
/// <param name="StageTasksPerDevice">Stage tasks each device served in the load run.</param>
/// <param name="ModelledCapacityPerSecond">Modelled: <see cref="InferenceExperiment.ModelledCapacity"/> of the load run; 0 when no device served.</param>
/// <param name="MeanStageComputeMilliseconds">Mean compute time of a stage task as its device reported it (load run).</param>
/// <param name="MeanStageMessagingMilliseconds">Mean of a stage task's round trip less its compute and its wait in the device queue: the MQTT hops through the broker, frame encoding and decoding at both ends (load run).</param>
public sealed record InferenceRun(
    string Strategy,
    string Layout,
    double ThroughputPerSecond,
    double ArrivalRatePerSecond,
    double LoadThroughputPerSecond,
    int Requests,
    int Failures,
    double P50Milliseconds,
    double P95Milliseconds,
    double P99Milliseconds,
    int QosViolations,
    double Accuracy,
    double ModelledEnergyMillijoulesPerRequest,
    double ModelledWanMilliseconds,
    long PeakMemoryBytesPerDevice,
    IReadOnlyDictionary<string, long> MemoryBytesByDevice,
    IReadOnlyList<double> LatenciesMilliseconds,
    IReadOnlyDictionary<string, int> StageTasksPerDevice,
    double ModelledCapacityPerSecond,
    double MeanStageComputeMilliseconds,
    double MeanStageMessagingMilliseconds);

/// <summary>A demo target, measured: the value, what it was compared with, and whether it holds.</summary>
public sealed record InferenceTarget(string Name, double Measured, double Required, bool Met, string Detail);

public sealed record InferenceExperimentResult(
    IReadOnlyList<VariantAccuracyReport> Variants,
    IReadOnlyList<string> Placements,
    double MinimumAccuracy,
    double MaximumLatencyMilliseconds,
    double ModelledWanRoundTripMilliseconds,
    double ModelledWanMegabitsPerSecond,
    double LoadFraction,
    double ArrivalRatePerSecond,
    string MemoryMethod,
    IReadOnlyList<InferenceRun> Runs,
    IReadOnlyList<TradeoffPoint> TradeoffSweep,
    IReadOnlyList<InferenceTarget> Targets);

/// <summary>
/// Experiment 2: the model served as microservices over the fleet. Variants are built from the frozen base, their
/// accuracy measured in ONNX Runtime, placed on devices within memory. Each strategy's capacity is measured with
/// requests kept in flight; then Poisson arrivals at a fraction of the microservice capacity drive every strategy
/// for latency and QoS. Monolithic and cloud run on the whole-model placement, the per-stage strategies on the
/// partitioned one (each stage on a few devices). A sweep of the drift-plus-penalty trade-off V follows.
/// </summary>
public static class InferenceExperiment
{
    private const string WholeLayout = "whole";

    public const string MemoryMethod = "model bytes resident per device: the bytes of the artifacts it loaded (ONNX models on agents, INT8 stage blobs on ESP32s, each SHA-256-checked by the device). "
        + "Per-stage layouts count every variant each device holds loaded, used or standing by; monolithic counts only the variants its one device served (the whole model once). "
        + "ONNX Runtime arenas and activations are not included: the in-process agents share one process, so their sessions cannot be measured apart";

    public static async Task<InferenceExperimentResult> RunAsync(DemoFleet fleet, TinyVitWeights baseWeights, FashionMnistData data, Dataset testSlice,
        DemoSettings settings, Action<string>? progress, CancellationToken cancellationToken)
    {
        progress?.Invoke("building FP32/FP16/INT8/Pruned-INT8 variants and measuring their accuracy in ONNX Runtime");
        var calibration = data.Train.Take(512);
        var variants = VariantModel.BuildAll(baseWeights, calibration);
        var accuracy = VariantAccuracy.Measure(variants, testSlice);
        var portfolio = ServicePortfolio.FromModel(variants, accuracy);
        var onnx = new OnnxStageArtifacts(variants);
        // ESP32s get the firmware's INT8 stage blobs of the INT8 and Pruned-INT8 variants; agents get ONNX.
        var artifacts = new ArtifactsWithFallback(new McuStageArtifacts(variants, calibration.ScaledPixels(0, calibration.Count), calibration.Count), onnx);
        var orchestrator = fleet.Get<InferenceOrchestrator>();
        var planner = fleet.Get<PlacementPlanner>();
        orchestrator.UseCloudModel(onnx.WholeFp32Model());
        progress?.Invoke("deploying every stage to every device (SHA-256 checked, calibrated on arrival)");
        await planner.StartAsync(portfolio, artifacts, cancellationToken).ConfigureAwait(false);
        await SettleAsync(planner, cancellationToken).ConfigureAwait(false);

        var qos = new QosRequirement(settings.MinimumAccuracy, TimeSpan.FromMilliseconds(settings.MaximumLatencyMilliseconds));
        var requests = Enumerable.Range(0, settings.InferenceRequests).Select(i => (Pixels: testSlice.ScaledPixels(i % testSlice.Count, 1), Label: (int)testSlice.Labels[i % testSlice.Count])).ToArray();
        var capacity = new Dictionary<string, double>(StringComparer.Ordinal);

        async Task MeasureCapacityAsync(string name, InferenceStrategy strategy)
        {
            progress?.Invoke($"measuring the capacity of {name} ({settings.InferenceConcurrency} requests in flight)");
            capacity[name] = await SaturateAsync(orchestrator, strategy, requests, qos, settings.InferenceConcurrency, cancellationToken).ConfigureAwait(false);
        }

        await MeasureCapacityAsync("monolithic", InferenceStrategy.Monolithic).ConfigureAwait(false);
        await MeasureCapacityAsync("cloud", InferenceStrategy.Cloud).ConfigureAwait(false);

        progress?.Invoke($"re-placing: each stage on {settings.StageReplicas} devices, in the smallest variants that keep {settings.MinimumAccuracy:P0} accuracy");
        await planner.UseStageReplicasAsync(settings.StageReplicas, settings.MinimumAccuracy, cancellationToken).ConfigureAwait(false);
        await SettleAsync(planner, cancellationToken).ConfigureAwait(false);
        var partitionedLayout = $"{settings.StageReplicas} per stage";
        var placements = planner.Placements.Select(p => $"{p.DeviceId}: {p.VariantId} {p.State}{(p.Error is null ? "" : " (" + p.Error + ")")}").ToArray();
        (string Name, InferenceStrategy Strategy)[] perStage = [("microservice", InferenceStrategy.DriftPlusPenalty), ("greedy", InferenceStrategy.Greedy), ("round_robin", InferenceStrategy.RoundRobin)];
        foreach (var (name, strategy) in perStage) await MeasureCapacityAsync(name, strategy).ConfigureAwait(false);

        // The shared load: a fraction of the capacity the microservice strategy showed in this run.
        var rate = settings.InferenceLoadFraction * capacity["microservice"];
        var runs = new List<InferenceRun>();
        var held = HeldBytes(planner);
        foreach (var (name, strategy) in perStage)
        {
            progress?.Invoke($"serving {requests.Length} Poisson arrivals at {rate:0.0}/s with {name}");
            runs.Add(await ServeAtRateAsync(orchestrator, _ => held, name, partitionedLayout, strategy, requests, qos, rate, capacity[name], cancellationToken).ConfigureAwait(false));
        }

        progress?.Invoke("sweeping the drift-plus-penalty trade-off V");
        var sweep = await TradeoffSweep.RunAsync(orchestrator, requests.Take(Math.Max(8, requests.Length / 2)).Select(r => r.Pixels).ToArray(), qos,
            settings.TradeoffValues, settings.InferenceConcurrency, cancellationToken).ConfigureAwait(false);

        progress?.Invoke("re-placing: every stage on every device");
        await planner.UseStageReplicasAsync(0, cancellationToken).ConfigureAwait(false);
        await SettleAsync(planner, cancellationToken).ConfigureAwait(false);
        foreach (var (name, strategy) in new[] { ("monolithic", InferenceStrategy.Monolithic), ("cloud", InferenceStrategy.Cloud) })
        {
            progress?.Invoke($"serving {requests.Length} Poisson arrivals at {rate:0.0}/s with {name}");
            runs.Add(await ServeAtRateAsync(orchestrator, served => ServedBytes(planner, served), name, WholeLayout, strategy, requests, qos, rate, capacity[name], cancellationToken).ConfigureAwait(false));
        }

        var options = fleet.Get<Microsoft.Extensions.Options.IOptions<InferenceOptions>>().Value;
        return new InferenceExperimentResult(accuracy, placements, qos.MinimumAccuracy, qos.MaximumLatency.TotalMilliseconds,
            options.ModelledWanRoundTrip.TotalMilliseconds, options.ModelledWanMegabitsPerSecond, settings.InferenceLoadFraction, rate, MemoryMethod,
            [.. runs.OrderBy(r => Array.IndexOf(StrategyOrder, r.Strategy))], sweep, Targets(runs, settings.InferenceLoadFraction));
    }

    private static readonly string[] StrategyOrder = ["cloud", "monolithic", "greedy", "round_robin", "microservice"];

    /// <summary>The four inference targets, each from this run's measurements.</summary>
    public static IReadOnlyList<InferenceTarget> Targets(IReadOnlyList<InferenceRun> runs, double loadFraction)
    {
        ArgumentNullException.ThrowIfNull(runs);
        var micro = runs.Single(r => r.Strategy == "microservice");
        var mono = runs.Single(r => r.Strategy == "monolithic");
        var cloud = runs.Single(r => r.Strategy == "cloud");
        var speedup = micro.ThroughputPerSecond / mono.ThroughputPerSecond;
        var violations = micro.Requests == 0 ? 1 : micro.QosViolations / (double)micro.Requests;
        var memory = mono.PeakMemoryBytesPerDevice == 0 ? double.NaN : micro.PeakMemoryBytesPerDevice / (double)mono.PeakMemoryBytesPerDevice;
        return
        [
            new("throughput microservice / monolithic", speedup, 3, speedup >= 3,
                $"{micro.ThroughputPerSecond:0.0} vs {mono.ThroughputPerSecond:0.0} requests/s measured on this host's shared cores; modelled with a CPU per board: "
                + $"{micro.ModelledCapacityPerSecond:0} vs {mono.ModelledCapacityPerSecond:0} requests/s ({micro.ModelledCapacityPerSecond / mono.ModelledCapacityPerSecond:0.00}x)"),
            new("p95 latency microservice / cloud", micro.P95Milliseconds / cloud.P95Milliseconds, 1, micro.P95Milliseconds < cloud.P95Milliseconds,
                $"{micro.P95Milliseconds:0.0} ms vs {cloud.P95Milliseconds:0.0} ms (cloud WAN modelled)"),
            new($"QoS violation rate at {loadFraction:P0} load", violations, 0.01, violations <= 0.01, $"{micro.QosViolations} of {micro.Requests} requests"),
            new("peak memory per device microservice / monolithic", memory, 1.0 / 3, memory <= 1.0 / 3,
                $"{micro.PeakMemoryBytesPerDevice:N0} vs {mono.PeakMemoryBytesPerDevice:N0} model bytes resident"),
        ];
    }

    private static async Task SettleAsync(PlacementPlanner planner, CancellationToken cancellationToken)
    {
        try
        {
            await planner.WaitUntilSettledAsync(TimeSpan.FromSeconds(90), cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // Placements still loading are simply not candidates; the report lists what was loaded.
        }
    }

    /// <summary>Completed requests per second with <paramref name="concurrency"/> requests always in flight.</summary>
    private static async Task<double> SaturateAsync(InferenceOrchestrator orchestrator, InferenceStrategy strategy, (float[] Pixels, int Label)[] requests,
        QosRequirement qos, int concurrency, CancellationToken cancellationToken)
    {
        // Warm-up, not counted: code paths and sessions on the way are compiled and touched once.
        foreach (var request in requests.Take(concurrency))
            await orchestrator.InferAsync(request.Pixels, qos, strategy, cancellationToken).ConfigureAwait(false);
        var served = 0;
        var clock = Stopwatch.StartNew();
        await Parallel.ForEachAsync(requests, new ParallelOptions { MaxDegreeOfParallelism = concurrency, CancellationToken = cancellationToken }, async (request, token) =>
        {
            var result = await orchestrator.InferAsync(request.Pixels, qos, strategy, token).ConfigureAwait(false);
            if (result.Succeeded) Interlocked.Increment(ref served);
        }).ConfigureAwait(false);
        return served / Math.Max(clock.Elapsed.TotalSeconds, 1e-9);
    }

    /// <summary>Open-loop Poisson arrivals at <paramref name="perSecond"/>: requests start on schedule whether or not earlier ones finished.</summary>
    private static async Task<InferenceRun> ServeAtRateAsync(InferenceOrchestrator orchestrator, Func<IReadOnlyList<StagePlacement>, IReadOnlyDictionary<string, long>> memoryOf,
        string name, string layout, InferenceStrategy strategy, (float[] Pixels, int Label)[] requests, QosRequirement qos, double perSecond, double capacity, CancellationToken cancellationToken)
    {
        var random = new Random(7);
        var pending = new Task<InferenceResult>[requests.Length];
        var clock = Stopwatch.StartNew();
        var due = 0.0;
        for (var i = 0; i < requests.Length; i++)
        {
            var wait = due - clock.Elapsed.TotalSeconds;
            if (wait > 0.001) await Task.Delay(TimeSpan.FromSeconds(wait), cancellationToken).ConfigureAwait(false);
            var pixels = requests[i].Pixels;
            pending[i] = Task.Run(() => orchestrator.InferAsync(pixels, qos, strategy, cancellationToken), cancellationToken);
            due += -Math.Log(1 - random.NextDouble()) / perSecond;
        }

        var results = await Task.WhenAll(pending).ConfigureAwait(false);
        var seconds = clock.Elapsed.TotalSeconds;
        var succeeded = results.Where(r => r.Succeeded).ToArray();
        var latencies = succeeded.Select(r => r.LatencyMilliseconds).OrderBy(l => l).ToArray();
        var correct = results.Select((r, i) => r.Succeeded && r.Prediction == requests[i].Label).Count(c => c);
        var stages = succeeded.SelectMany(r => r.Stages).Where(s => s.DeviceId != InferenceOrchestrator.GatewayDeviceId).ToArray();
        var perDevice = stages.GroupBy(s => s.DeviceId).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        var memory = memoryOf(stages);
        return new InferenceRun(name, layout, capacity, perSecond, succeeded.Length / Math.Max(seconds, 1e-9), results.Length, results.Length - succeeded.Length,
            Percentile(latencies, 0.50), Percentile(latencies, 0.95), Percentile(latencies, 0.99),
            results.Count(r => !r.Succeeded || !r.QosMet),
            correct / (double)results.Length,
            succeeded.Length == 0 ? 0 : succeeded.Average(r => r.Stages.Sum(s => s.ModelledEnergyMillijoules)),
            succeeded.Length == 0 ? 0 : succeeded.Average(r => r.ModelledWanMilliseconds),
            memory.Count == 0 ? 0 : memory.Values.Max(), memory, latencies, perDevice, ModelledCapacity(succeeded.Length, stages),
            stages.Length == 0 ? 0 : stages.Average(s => s.ComputeMilliseconds),
            stages.Length == 0 ? 0 : stages.Average(s => Math.Max(0, s.RoundTripMilliseconds - s.ComputeMilliseconds - s.QueueWaitMilliseconds)));
    }

    /// <summary>
    /// Modelled capacity, requests per second: the served requests over the busiest device's summed stage compute time
    /// as the devices reported it (agents: their ONNX Runtime run; ESP32s: their profile-paced time), i.e. every board with
    /// a CPU of its own, the broker and the gateway taking no time. 0 when no device served.
    /// </summary>
    public static double ModelledCapacity(int requests, IEnumerable<StagePlacement> stages)
    {
        ArgumentNullException.ThrowIfNull(stages);
        var busiest = stages.GroupBy(s => s.DeviceId, StringComparer.Ordinal).Select(g => g.Sum(s => s.ComputeMilliseconds)).DefaultIfEmpty(0).Max();
        return busiest <= 0 ? 0 : requests / (busiest / 1000);
    }

    /// <summary>Per device, the artifact bytes of every variant it holds loaded now.</summary>
    public static IReadOnlyDictionary<string, long> HeldBytes(PlacementPlanner planner)
    {
        ArgumentNullException.ThrowIfNull(planner);
        return planner.Placements.Where(p => p.State == PlacementState.Loaded).GroupBy(p => p.DeviceId, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Sum(p => p.ArtifactBytes), StringComparer.Ordinal);
    }

    /// <summary>Per device that served a stage, the artifact bytes of each distinct variant it served.</summary>
    public static IReadOnlyDictionary<string, long> ServedBytes(PlacementPlanner planner, IEnumerable<StagePlacement> served)
    {
        ArgumentNullException.ThrowIfNull(planner);
        ArgumentNullException.ThrowIfNull(served);
        var bytes = planner.Placements.ToDictionary(p => (p.DeviceId, p.VariantId), p => p.ArtifactBytes);
        return served.Select(s => (s.DeviceId, s.VariantId)).Distinct().GroupBy(s => s.DeviceId, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Sum(s => bytes.GetValueOrDefault(s)), StringComparer.Ordinal);
    }

    public static double Percentile(IReadOnlyList<double> sorted, double quantile)
    {
        ArgumentNullException.ThrowIfNull(sorted);
        if (sorted.Count == 0) return double.NaN;
        var rank = quantile * (sorted.Count - 1);
        var low = (int)Math.Floor(rank);
        var high = (int)Math.Ceiling(rank);
        return sorted[low] + ((sorted[high] - sorted[low]) * (rank - low));
    }
}
