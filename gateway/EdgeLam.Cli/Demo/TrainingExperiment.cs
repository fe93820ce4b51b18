using EdgeLam.Gateway.Training;
using EdgeLam.Gateway.Training.Rounds;
using EdgeLam.Gateway.Training.Strategies;
using EdgeLam.Model.Architecture;
using EdgeLam.Model.Data;

namespace EdgeLam.Cli.Demo;

/// <summary>One strategy's measured rounds: test accuracy of the global model after each round, and bytes on the wire.</summary>
public sealed record StrategyRun(
    string Strategy,
    IReadOnlyList<RoundMeasurement> Rounds,
    double FinalAccuracy,
    long UplinkBytes,
    long DownlinkBytes,
    double Seconds);

public sealed record RoundMeasurement(int Round, double Accuracy, int Replies, int Failures, long UplinkBytes, long DownlinkBytes, double Seconds, IReadOnlyList<string> FailureReasons);

/// <summary>
/// Experiment 1: the same fleet, shards and rounds under each federated strategy. Every round runs over
/// MQTT against the emulated fleet; accuracy is the global adapters merged into the frozen base, measured
/// on a fixed slice of the official test set.
/// </summary>
public static class TrainingExperiment
{
    public static IReadOnlyList<(string Name, Func<IFederatedStrategy> Create)> Strategies { get; } =
    [
        ("fedlora_uniform", () => new UniformLoraStrategy()),
        ("fedlora_zeropad", () => new ZeroPaddedLoraStrategy()),
        ("fedft_h", () => new FedFtHStrategy()),
        ("full_fedavg", () => new FullFedAvgStrategy()),
    ];

    public static async Task<IReadOnlyList<StrategyRun>> RunAsync(DemoFleet fleet, TinyVitWeights baseWeights, Dataset testSlice, DemoSettings settings,
        Action<string, int, double>? progress, CancellationToken cancellationToken)
    {
        var coordinator = fleet.Get<TrainingCoordinator>();
        var runs = new List<StrategyRun>();
        foreach (var (name, create) in Strategies)
        {
            coordinator.ReplaceGlobal(GlobalModelState.Initial);
            var strategy = create();
            var rounds = new List<RoundMeasurement>();
            var started = System.Diagnostics.Stopwatch.StartNew();
            for (var round = 1; round <= settings.Rounds; round++)
            {
                var outcome = await coordinator.RunRoundAsync(strategy, name, cancellationToken: cancellationToken).ConfigureAwait(false);
                var accuracy = Evaluate(baseWeights, coordinator.Global, testSlice);
                rounds.Add(new RoundMeasurement(round, accuracy, outcome.Replies.Count, outcome.Failures.Count, outcome.UplinkBytes, outcome.DownlinkBytes,
                    outcome.Duration.TotalSeconds, outcome.Failures.Select(f => $"{f.DeviceId}: {f.Reason}").ToArray()));
                progress?.Invoke(name, round, accuracy);
            }

            runs.Add(new StrategyRun(name, rounds, rounds[^1].Accuracy, rounds.Sum(r => r.UplinkBytes), rounds.Sum(r => r.DownlinkBytes), started.Elapsed.TotalSeconds));
        }

        return runs;
    }

    /// <summary>
    /// Accuracy of the global model: the base with the global adapters merged in, or the global full weights
    /// (full-model FedAvg) in place of the base's; the base itself when there are neither.
    /// </summary>
    public static double Evaluate(TinyVitWeights baseWeights, GlobalModelState global, Dataset testSlice)
    {
        var weights = baseWeights.Clone();
        foreach (var (name, _, values) in weights.Tensors())
            if (global.Parameters.FullWeights.TryGetValue(name, out var trained) && trained.Length == values.Length) trained.CopyTo(values, 0);
        if (global.Parameters.Adapters.Count > 0) AdapterMerging.MergeInto(weights, global.Parameters.Adapters);
        return new TinyVitModel(weights).Evaluate(testSlice);
    }
}
