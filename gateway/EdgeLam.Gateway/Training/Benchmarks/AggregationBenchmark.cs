using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using EdgeLam.Gateway.Training.Strategies;
using EdgeLam.Model.Architecture;

namespace EdgeLam.Gateway.Training.Benchmarks;

/// <summary>One strategy's round aggregation at one fleet size, measured.</summary>
/// <param name="Seconds">Median wall time of AggregateTrain (aggregation and every device's downlink) over the repetitions.</param>
/// <param name="AllocatedBytes">Managed bytes allocated by one aggregation (GC.GetTotalAllocatedBytes, precise).</param>
/// <param name="WorkingSetDeltaBytes">Largest growth of the process working set across one aggregation.</param>
public sealed record AggregationTiming(int Clients, string Strategy, int Repetitions, double Seconds, long AllocatedBytes, long WorkingSetDeltaBytes);

/// <summary>FedFT-H time over zero-padding time at one fleet size, both measured in the same run.</summary>
public sealed record AggregationRatio(int Clients, double FedFtHOverZeroPad, double AllocatedBytesRatio);

/// <summary>The result of <c>edgelam bench aggregation</c>.</summary>
public sealed record AggregationBenchmarkResult(
    string Model, int AdaptedProjections, string RankMix, IReadOnlyList<AggregationTiming> Timings, IReadOnlyList<AggregationRatio> Ratios, string Machine)
{
    private static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public string ToJson() => JsonSerializer.Serialize(this, JsonOptions);

    public string ToTable()
    {
        var c = CultureInfo.InvariantCulture;
        var text = new StringBuilder();
        text.AppendLine(c, $"Round aggregation, {Model}, {AdaptedProjections} adapted projections, ranks {RankMix} (measured, {Machine}):");
        text.AppendLine("clients  strategy          seconds   allocated MiB  working set delta MiB");
        foreach (var t in Timings)
            text.AppendLine(c, $"{t.Clients,7}  {t.Strategy,-16} {t.Seconds,8:0.000}  {t.AllocatedBytes / 1048576.0,13:0.0}  {t.WorkingSetDeltaBytes / 1048576.0,21:0.0}");
        foreach (var r in Ratios)
            text.AppendLine(c, $"{r.Clients} clients: fedft_h / fedlora_zeropad time {r.FedFtHOverZeroPad:0.00}x, allocated bytes {r.AllocatedBytesRatio:0.00}x");
        return text.ToString();
    }
}

/// <summary>
/// Times one round's aggregation (AggregateTrain: screening, per-projection aggregation and every device's downlink)
/// of FedFT-H and zero-padded LoRA on the same random adapters of the real model's shapes, at 10, 100 and 1000 clients,
/// with the demo fleet's tier mix (H r=16, M r=8 on every layer; L r=4 on the last two layers, 2:3:3).
/// </summary>
public static class AggregationBenchmark
{
    /// <summary>Tier mix of the demo fleet (hardware/fleets/demo-fleet.json): rank, whether only the last two layers, share.</summary>
    private static readonly (int Rank, bool LastTwoLayers, int Share)[] Tiers = [(16, false, 2), (8, false, 3), (4, true, 3)];

    public static AggregationBenchmarkResult Run(IReadOnlyList<int>? clientCounts = null, Action<string>? progress = null)
    {
        var config = new TinyVitConfig();
        var layout = AdapterLayout.ForTinyVit(config);
        var context = new RoundContext(1, GlobalModelState.Initial, layout, TrainingHyperparameters.Default with { MaximumUpdateNorm = double.PositiveInfinity });
        var strategies = new IFederatedStrategy[] { new FedFtHStrategy(), new ZeroPaddedLoraStrategy() };
        var timings = new List<AggregationTiming>();
        // Warm-up: JIT and first-touch costs stay out of the measured runs.
        foreach (var strategy in strategies)
            strategy.AggregateTrain(context, Replies(layout, 4, seed: 0), []);

        foreach (var clients in clientCounts ?? [10, 100, 1000])
        {
            var replies = Replies(layout, clients, seed: clients);
            foreach (var strategy in strategies)
            {
                var repetitions = clients >= 1000 ? 1 : clients >= 100 ? 3 : 5;
                var seconds = new List<double>();
                long allocated = 0, workingSet = 0;
                for (var r = 0; r < repetitions; r++)
                {
                    GC.Collect();
                    GC.WaitForPendingFinalizers();
                    using var process = Process.GetCurrentProcess();
                    var workingBefore = process.WorkingSet64;
                    var allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
                    var stopwatch = Stopwatch.StartNew();
                    var result = strategy.AggregateTrain(context, replies, []);
                    stopwatch.Stop();
                    allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
                    process.Refresh();
                    workingSet = Math.Max(workingSet, process.WorkingSet64 - workingBefore);
                    if (result.Metrics.Accepted != clients)
                        throw new InvalidOperationException($"{strategy.Name} accepted {result.Metrics.Accepted} of {clients} benchmark replies: {result.Summary}");
                    seconds.Add(stopwatch.Elapsed.TotalSeconds);
                }

                seconds.Sort();
                timings.Add(new AggregationTiming(clients, strategy.Name, repetitions, seconds[seconds.Count / 2], allocated, workingSet));
                progress?.Invoke(FormattableString.Invariant($"{strategy.Name} at {clients} clients: {seconds[seconds.Count / 2]:0.000} s"));
            }
        }

        var ratios = timings.GroupBy(t => t.Clients).Select(g =>
        {
            var exact = g.Single(t => t.Strategy == FedFtHStrategy.StrategyName);
            var padded = g.Single(t => t.Strategy == ZeroPaddedLoraStrategy.StrategyName);
            return new AggregationRatio(g.Key, exact.Seconds / padded.Seconds, (double)exact.AllocatedBytes / padded.AllocatedBytes);
        }).ToArray();
        var model = FormattableString.Invariant($"tiny ViT d={config.ModelDim}, {config.Layers} layers, MLP {config.MlpDim}");
        var mix = string.Join(", ", Tiers.Select(t => FormattableString.Invariant($"{t.Share} x r={t.Rank}{(t.LastTwoLayers ? " (last 2 layers)" : "")}")));
        return new AggregationBenchmarkResult(model, layout.Projections.Count, mix, timings, ratios,
            FormattableString.Invariant($"{Environment.ProcessorCount} cores, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}"));
    }

    /// <summary>Random adapters (A, B uniform in ±0.5/√in, the LoRA init range) of the tier mix, one reply per client.</summary>
    private static TrainingReply[] Replies(AdapterLayout layout, int clients, int seed)
    {
        var random = new Random(seed);
        var cycle = Tiers.SelectMany(t => Enumerable.Repeat(t, t.Share)).ToArray();
        var lastTwo = layout.Layers.Skip(layout.Layers.Count - 2).ToArray();
        var replies = new TrainingReply[clients];
        for (var k = 0; k < clients; k++)
        {
            var tier = cycle[k % cycle.Length];
            var adapters = layout.ProjectionsOfLayers(tier.LastTwoLayers ? lastTwo : null).ToDictionary(
                p => p.Name,
                p => new LoraFactors(tier.Rank, p.InFeatures, p.OutFeatures,
                    Uniform(random, tier.Rank * p.InFeatures, 0.5 / Math.Sqrt(p.InFeatures)),
                    Uniform(random, p.OutFeatures * tier.Rank, 0.5 / Math.Sqrt(p.InFeatures)),
                    TrainingHyperparameters.Default.LoraAlpha / tier.Rank),
                StringComparer.Ordinal);
            replies[k] = new TrainingReply($"client-{k}", 100 + random.Next(900), ModelParameters.FromAdapters(adapters), 0);
        }

        return replies;
    }

    private static float[] Uniform(Random random, int count, double bound)
    {
        var values = new float[count];
        for (var i = 0; i < count; i++) values[i] = (float)(((random.NextDouble() * 2) - 1) * bound);
        return values;
    }
}
