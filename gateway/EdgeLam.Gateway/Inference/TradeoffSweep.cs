using EdgeLam.Gateway.Inference.Scheduling;

namespace EdgeLam.Gateway.Inference;

/// <summary>One V of the sweep: the time-average penalty against the time-average backlog it buys (the O(1/V), O(V) trade-off).</summary>
/// <param name="Tradeoff">V.</param>
/// <param name="Requests">Requests served at this V.</param>
/// <param name="MeanPenalty">Mean performance cost per request (weighted compute time and modelled energy).</param>
/// <param name="MeanBacklogMilliseconds">Mean device queue wait the stage tasks reported.</param>
/// <param name="MeanLatencyMilliseconds">Mean end-to-end latency.</param>
/// <param name="QosMetFraction">Fraction of requests that met their QoS.</param>
/// <param name="Failures">Requests that failed.</param>
public sealed record TradeoffPoint(double Tradeoff, int Requests, double MeanPenalty, double MeanBacklogMilliseconds, double MeanLatencyMilliseconds, double QosMetFraction, int Failures);

/// <summary>Sweeps V of drift-plus-penalty over the real fleet and reports cost against backlog (Neely 2010, Theorem 4.8).</summary>
public static class TradeoffSweep
{
    /// <summary>For each V, serves every image with <paramref name="concurrency"/> requests in flight and summarizes.</summary>
    public static async Task<IReadOnlyList<TradeoffPoint>> RunAsync(InferenceOrchestrator orchestrator, IReadOnlyList<float[]> images, QosRequirement qos,
        IReadOnlyList<double> tradeoffs, int concurrency, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(orchestrator);
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(tradeoffs);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(concurrency);
        var points = new List<TradeoffPoint>();
        var previous = orchestrator.DriftPlusPenalty.Tradeoff;
        try
        {
            foreach (var tradeoff in tradeoffs)
            {
                orchestrator.DriftPlusPenalty.Tradeoff = tradeoff;
                orchestrator.Queues.Reset();
                var results = new InferenceResult[images.Count];
                await Parallel.ForEachAsync(Enumerable.Range(0, images.Count), new ParallelOptions { MaxDegreeOfParallelism = concurrency, CancellationToken = cancellationToken },
                    async (i, token) => results[i] = await orchestrator.InferAsync(images[i], qos, InferenceStrategy.DriftPlusPenalty, token).ConfigureAwait(false)).ConfigureAwait(false);
                points.Add(Summarize(tradeoff, results, qos, orchestrator.Weights));
            }
        }
        finally
        {
            orchestrator.DriftPlusPenalty.Tradeoff = previous;
        }

        return points;
    }

    /// <summary>The sweep point of a set of results.</summary>
    public static TradeoffPoint Summarize(double tradeoff, IReadOnlyList<InferenceResult> results, QosRequirement qos, PerformanceWeights weights)
    {
        ArgumentNullException.ThrowIfNull(results);
        ArgumentNullException.ThrowIfNull(qos);
        ArgumentNullException.ThrowIfNull(weights);
        var served = results.Where(r => r.Succeeded).ToArray();
        double Mean(Func<InferenceResult, double> value) => served.Length == 0 ? double.NaN : served.Average(value);
        return new TradeoffPoint(tradeoff, results.Count,
            Mean(r => r.Stages.Sum(s => (weights.LatencyPerMillisecond * (1 + qos.Priority) * s.ComputeMilliseconds) + (weights.EnergyPerMillijoule * s.ModelledEnergyMillijoules))),
            Mean(r => r.Stages.Count == 0 ? 0 : r.Stages.Average(s => s.QueueWaitMilliseconds)),
            Mean(r => r.LatencyMilliseconds),
            results.Count == 0 ? 0 : (double)results.Count(r => r.QosMet) / results.Count,
            results.Count - served.Length);
    }
}
