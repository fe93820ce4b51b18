using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using EdgeLam.Contracts.Messages;
using EdgeLam.Model.Variants;

namespace EdgeLam.Gateway.Inference.Scheduling;

/// <summary>Decision time at one fleet size: the candidate index against the plain filter and policy, measured in the same run.</summary>
/// <param name="Devices">Devices in the fleet.</param>
/// <param name="CandidatesPerStage">Loaded (variant, device) pairs of one stage.</param>
/// <param name="IndexMicroseconds">Mean time of one decision on the candidate index.</param>
/// <param name="IndexAllocatedBytesPerDecision">Bytes allocated per index decision.</param>
/// <param name="PlainMicroseconds">Mean time of one decision by <see cref="CandidateFilter"/> and <see cref="DriftPlusPenaltyPolicy"/> over the same pairs.</param>
/// <param name="Speedup">Plain time over index time.</param>
public sealed record DecisionTiming(int Devices, int CandidatesPerStage, double IndexMicroseconds, double IndexAllocatedBytesPerDecision, double PlainMicroseconds, double Speedup);

/// <summary>One V of the simulated sweep.</summary>
public sealed record SimulatedTradeoff(double Tradeoff, double MeanPenalty, double MeanBacklogMilliseconds, double MaxBacklogMilliseconds);

/// <summary>The result of <c>edgelam bench scheduler</c>.</summary>
public sealed record SchedulerBenchmarkResult(int Stages, int VariantsPerStage, IReadOnlyList<DecisionTiming> Decisions, double TargetMicroseconds,
    double LoadFraction, IReadOnlyList<SimulatedTradeoff> TradeoffSweep, string Machine)
{
    private static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public string ToJson() => JsonSerializer.Serialize(this, JsonOptions);

    public string ToTable()
    {
        var c = CultureInfo.InvariantCulture;
        var text = new StringBuilder();
        text.AppendLine(c, $"Scheduling decision time, {Stages} stages x {VariantsPerStage} variants, every device holds every variant (measured, {Machine}):");
        text.AppendLine("devices  candidates/stage  index us  bytes/decision  plain us  plain/index");
        foreach (var d in Decisions)
            text.AppendLine(c, $"{d.Devices,7}  {d.CandidatesPerStage,16}  {d.IndexMicroseconds,8:F2}  {d.IndexAllocatedBytesPerDecision,14:F0}  {d.PlainMicroseconds,8:F1}  {d.Speedup,10:F0}x");
        text.AppendLine(c, $"target: under {TargetMicroseconds} us at 1000 devices");
        text.AppendLine(c, $"V sweep (discrete-event simulation of the same decision path, Poisson arrivals at {LoadFraction:P0} of capacity):");
        text.AppendLine("V        mean penalty  mean backlog ms  max backlog ms");
        foreach (var p in TradeoffSweep)
            text.AppendLine(c, $"{p.Tradeoff,-8}  {p.MeanPenalty,12:F2}  {p.MeanBacklogMilliseconds,15:F2}  {p.MaxBacklogMilliseconds,14:F1}");
        return text.ToString();
    }
}

/// <summary>
/// `edgelam bench scheduler`: time per drift-plus-penalty decision at 10, 100 and 1000 devices (synthetic fleet and
/// portfolio from a fixed seed, backlogs changing between decisions), and a V sweep of cost against backlog.
/// </summary>
public static class SchedulerBenchmark
{
    private static readonly ModelVariant[] Kinds = [ModelVariant.Fp32, ModelVariant.Fp16, ModelVariant.Int8, ModelVariant.PrunedInt8];

    public static SchedulerBenchmarkResult Run(IReadOnlyList<int>? fleetSizes = null, int stages = 6, Action<string>? progress = null)
    {
        fleetSizes ??= [10, 100, 1000];
        var timings = new List<DecisionTiming>();
        foreach (var devices in fleetSizes)
        {
            progress?.Invoke($"timing decisions at {devices} devices");
            timings.Add(TimeDecisions(devices, stages));
        }

        const double load = 0.7;
        // A mixed fleet: fast devices that draw more power, slow frugal ones (Jetson-like and Pi-like figures).
        var fleet = Enumerable.Range(0, 8).Select(i => i < 3 ? new SimulatedDevice($"fast{i}", 2, 15) : new SimulatedDevice($"slow{i}", 5, 3)).ToArray();
        var rate = load * SchedulerSimulation.CapacityPerMillisecond(fleet, stages);
        var sweep = new List<SimulatedTradeoff>();
        foreach (var tradeoff in new[] { 0.0, 0.1, 1, 10, 100, 1000 })
        {
            progress?.Invoke($"simulating V = {tradeoff}");
            var run = SchedulerSimulation.Run(fleet, stages, rate, 20_000, tradeoff, seed: 1);
            sweep.Add(new SimulatedTradeoff(tradeoff, run.MeanPenalty, run.MeanBacklogMilliseconds, run.MaxBacklogMilliseconds));
        }

        return new SchedulerBenchmarkResult(stages, Kinds.Length, timings, 20, load, sweep, $"{Environment.ProcessorCount} cores, {Environment.OSVersion}");
    }

    private static DecisionTiming TimeDecisions(int deviceCount, int stages)
    {
        var random = new Random(deviceCount);
        var stageIds = Enumerable.Range(0, stages).Select(s => $"stage{s}").ToArray();
        var variants = new List<StageVariant>();
        for (var s = 0; s < stages; s++)
            for (var k = 0; k < Kinds.Length; k++)
                variants.Add(new StageVariant(stageIds[s], s, Kinds[k], 4000 >> k, 1000, 0.85 - (0.01 * k)));
        var portfolio = new ServicePortfolio(stageIds, variants, 0.85, new Dictionary<ModelVariant, double> { [ModelVariant.Fp32] = 0.85 });
        var loads = new DeviceLoad[deviceCount];
        var pairs = new List<IndexedPair>();
        for (var d = 0; d < deviceCount; d++)
        {
            loads[d] = new DeviceLoad();
            var device = new DeviceSnapshot($"device{d}", true, [Precision.Fp32, Precision.Fp16, Precision.Int8], 1 << 20, 1 + (10 * random.NextDouble()), 0);
            foreach (var variant in variants)
            {
                var service = 0.5 + (20 * random.NextDouble());
                pairs.Add(new IndexedPair(variant, device, loads[d], service, ServicePerformance.ModelledEnergyMillijoules(service, device.BusyWatts)));
            }
        }

        var index = new CandidateIndex(portfolio, pairs);
        var qos = new QosRequirement(0.8, TimeSpan.FromMilliseconds(400));
        var weights = new PerformanceWeights();
        var queues = new VirtualQueueState(1, 0.5);
        var policy = new DriftPlusPenaltyPolicy(10, weights);

        void Churn(int i)
        {
            // Backlogs move between decisions as tasks are dispatched and answered.
            var load = loads[i % deviceCount];
            load.AddInFlight((i & 1) == 0 ? 3 : -3, (i & 1) == 0 ? 1 : -1);
        }

        double IndexDecisions(int count)
        {
            var sink = 0;
            var started = Stopwatch.GetTimestamp();
            for (var i = 0; i < count; i++)
            {
                Churn(i);
                sink += index.ChooseDriftPlusPenalty(i % stages, 0, qos, 5, queues, policy.Tradeoff, weights, default, out _, out _);
            }

            var elapsed = Stopwatch.GetElapsedTime(started).TotalMicroseconds / count;
            GC.KeepAlive(sink);
            return elapsed;
        }

        IndexDecisions(2000);
        var decisions = deviceCount >= 1000 ? 20_000 : 100_000;
        var allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
        var indexMicroseconds = IndexDecisions(decisions);
        var allocated = (GC.GetAllocatedBytesForCurrentThread() - allocatedBefore) / (double)decisions;

        var plainDecisions = Math.Max(20, 20_000 / deviceCount);
        var plainStarted = Stopwatch.GetTimestamp();
        for (var i = 0; i < plainDecisions; i++)
        {
            Churn(i);
            var decision = new StageDecision(portfolio, i % stages, [], qos, 5, index.Pairs(), queues);
            var filtering = CandidateFilter.Filter(decision);
            GC.KeepAlive(policy.Choose(decision, filtering.Feasible));
        }

        var plainMicroseconds = Stopwatch.GetElapsedTime(plainStarted).TotalMicroseconds / plainDecisions;
        return new DecisionTiming(deviceCount, deviceCount * Kinds.Length, indexMicroseconds, allocated, plainMicroseconds, plainMicroseconds / indexMicroseconds);
    }
}
