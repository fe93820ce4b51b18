using System.Diagnostics;
using EdgeLam.Gateway.Inference;
using EdgeLam.Model.Architecture;
using EdgeLam.Model.Data;
using EdgeLam.Model.Variants;

namespace EdgeLam.Cli.Demo;

/// <summary>One inference strategy on the shared request stream: measured latency, throughput, QoS and accuracy.</summary>
public sealed record InferenceRun(
    string Strategy,
    int Requests,
    int Failures,
    double P50Milliseconds,
    double P95Milliseconds,
    double P99Milliseconds,
    double ThroughputPerSecond,
    int QosViolations,
    double Accuracy,
    double ModelledEnergyMillijoulesPerRequest,
    double ModelledWanMilliseconds,
    IReadOnlyList<double> LatenciesMilliseconds,
    IReadOnlyDictionary<string, int> StageTasksPerDevice);

public sealed record InferenceExperimentResult(
    IReadOnlyList<VariantAccuracyReport> Variants,
    IReadOnlyList<string> Placements,
    double MinimumAccuracy,
    double MaximumLatencyMilliseconds,
    IReadOnlyList<InferenceRun> Runs,
    IReadOnlyList<TradeoffPoint> TradeoffSweep);

/// <summary>
/// Experiment 2: the model served as microservices over the fleet. Variants are built from the frozen base,
/// their accuracy measured in ONNX Runtime, placed on devices within memory, then one request stream is
/// served under each strategy, followed by a sweep of the drift-plus-penalty trade-off V.
/// </summary>
public static class InferenceExperiment
{
    public static readonly (string Name, InferenceStrategy Strategy)[] Strategies =
    [
        ("cloud", InferenceStrategy.Cloud),
        ("monolithic", InferenceStrategy.Monolithic),
        ("greedy", InferenceStrategy.Greedy),
        ("round_robin", InferenceStrategy.RoundRobin),
        ("microservice", InferenceStrategy.DriftPlusPenalty),
    ];

    public static async Task<InferenceExperimentResult> RunAsync(DemoFleet fleet, TinyVitWeights baseWeights, FashionMnistData data, Dataset testSlice,
        DemoSettings settings, Action<string>? progress, CancellationToken cancellationToken)
    {
        progress?.Invoke("building FP32/FP16/INT8/Pruned-INT8 variants and measuring their accuracy in ONNX Runtime");
        var variants = VariantModel.BuildAll(baseWeights, data.Train.Take(512));
        var accuracy = VariantAccuracy.Measure(variants, testSlice);
        var portfolio = ServicePortfolio.FromModel(variants, accuracy);
        var artifacts = new OnnxStageArtifacts(variants);
        var orchestrator = fleet.Get<InferenceOrchestrator>();
        var planner = fleet.Get<PlacementPlanner>();
        orchestrator.UseCloudModel(artifacts.WholeFp32Model());
        progress?.Invoke("deploying stage variants to the devices (SHA-256 checked, calibrated on arrival)");
        await planner.StartAsync(portfolio, artifacts, cancellationToken).ConfigureAwait(false);
        try
        {
            await planner.WaitUntilSettledAsync(TimeSpan.FromSeconds(90), cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // Placements still loading are simply not candidates; the table below lists what was loaded.
        }

        var placements = planner.Placements.Select(p => $"{p.DeviceId}: {p.VariantId} {p.State}{(p.Error is null ? "" : " (" + p.Error + ")")}").ToArray();
        var qos = new QosRequirement(settings.MinimumAccuracy, TimeSpan.FromMilliseconds(settings.MaximumLatencyMilliseconds));
        var requests = Enumerable.Range(0, settings.InferenceRequests).Select(i => (Pixels: testSlice.ScaledPixels(i % testSlice.Count, 1), Label: (int)testSlice.Labels[i % testSlice.Count])).ToArray();
        var runs = new List<InferenceRun>();
        foreach (var (name, strategy) in Strategies)
        {
            progress?.Invoke($"serving {requests.Length} requests with {name}");
            runs.Add(await ServeAsync(orchestrator, name, strategy, requests, qos, settings.InferenceConcurrency, cancellationToken).ConfigureAwait(false));
        }

        progress?.Invoke("sweeping the drift-plus-penalty trade-off V");
        var sweep = await TradeoffSweep.RunAsync(orchestrator, requests.Take(Math.Max(8, requests.Length / 2)).Select(r => r.Pixels).ToArray(), qos,
            settings.TradeoffValues, settings.InferenceConcurrency, cancellationToken).ConfigureAwait(false);
        return new InferenceExperimentResult(accuracy, placements, qos.MinimumAccuracy, qos.MaximumLatency.TotalMilliseconds, runs, sweep);
    }

    private static async Task<InferenceRun> ServeAsync(InferenceOrchestrator orchestrator, string name, InferenceStrategy strategy,
        (float[] Pixels, int Label)[] requests, QosRequirement qos, int concurrency, CancellationToken cancellationToken)
    {
        var results = new InferenceResult[requests.Length];
        var clock = Stopwatch.StartNew();
        using var gate = new SemaphoreSlim(concurrency);
        var tasks = requests.Select(async (request, i) =>
        {
            await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                results[i] = await orchestrator.InferAsync(request.Pixels, qos, strategy, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                gate.Release();
            }
        }).ToArray();
        await Task.WhenAll(tasks).ConfigureAwait(false);
        var seconds = clock.Elapsed.TotalSeconds;
        var succeeded = results.Where(r => r.Succeeded).ToArray();
        var latencies = succeeded.Select(r => r.LatencyMilliseconds + r.ModelledWanMilliseconds).OrderBy(l => l).ToArray();
        var correct = results.Select((r, i) => r.Succeeded && r.Prediction == requests[i].Label).Count(c => c);
        var perDevice = succeeded.SelectMany(r => r.Stages).GroupBy(s => s.DeviceId).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        return new InferenceRun(name, results.Length, results.Length - succeeded.Length,
            Percentile(latencies, 0.50), Percentile(latencies, 0.95), Percentile(latencies, 0.99),
            succeeded.Length / Math.Max(seconds, 1e-9),
            results.Count(r => !r.Succeeded || !r.QosMet),
            correct / (double)results.Length,
            succeeded.Length == 0 ? 0 : succeeded.Average(r => r.Stages.Sum(s => s.ModelledEnergyMillijoules)),
            succeeded.Length == 0 ? 0 : succeeded.Average(r => r.ModelledWanMilliseconds),
            latencies, perDevice);
    }

    public static double Percentile(IReadOnlyList<double> sorted, double quantile)
    {
        if (sorted.Count == 0) return double.NaN;
        var rank = quantile * (sorted.Count - 1);
        var low = (int)Math.Floor(rank);
        var high = (int)Math.Ceiling(rank);
        return sorted[low] + (sorted[high] - sorted[low]) * (rank - low);
    }
}
