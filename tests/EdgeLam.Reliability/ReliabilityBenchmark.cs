using System.Text.Json;
using System.Text.Json.Serialization;

namespace EdgeLam.Reliability;

public sealed record ReliabilityBenchmarkOptions
{
    public ConnectionLoadOptions Load { get; init; } = new();
    public FaultScenarioOptions Faults { get; init; } = new();
    public FuzzingBenchmarkOptions Fuzzing { get; init; } = new();
}

/// <summary>Figures of `edgelam bench reliability`: connection load, the fault scenarios and the update ledger summed over them.</summary>
public sealed record ReliabilityBenchmarkResult(
    ConnectionLoadResult Load,
    int FaultsInjected,
    int FaultsSurvived,
    IReadOnlyList<ScenarioResult> Scenarios,
    long UpdatesPublished,
    long UpdatesAccepted,
    long UpdatesRejected,
    long UpdatesLost,
    FuzzingResult Fuzzing,
    string Note)
{
    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    /// <summary>True when nothing was lost, every fault was survived and fuzzing found nothing: the command's exit code is 0.</summary>
    public bool Passed => UpdatesLost == 0 && FaultsSurvived == FaultsInjected && Fuzzing.TotalFindings == 0;

    public string ToJson() => JsonSerializer.Serialize(this, Json);
}

public static class ReliabilityBenchmark
{
    public static async Task<ReliabilityBenchmarkResult> RunAsync(ReliabilityBenchmarkOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var log = options.Faults.Log;
        log("loading the tiny base checkpoint for the agents");
        FleetAgents.WarmUp();
        var load = await ConnectionLoad.RunAsync(options.Load, cancellationToken).ConfigureAwait(false);
        log($"load: {load.ConnectionsHeld} of {load.ConnectionsAttempted} connections held, {load.RequestsServed} requests served, p99 {load.LatencyP99Milliseconds:0.0} ms");
        var scenarios = new List<ScenarioResult>();
        foreach (var scenario in FaultScenarios.All)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var result = await scenario(options.Faults).ConfigureAwait(false);
            log($"{result.Name}: {(result.Survived ? "survived" : "NOT survived")} in {result.Seconds:0.0} s; {string.Join("; ", result.Checks)}");
            scenarios.Add(result);
        }

        var fuzzing = FuzzingBenchmark.Run(options.Fuzzing, cancellationToken);
        var books = scenarios.Aggregate(UpdateBooks.Empty, (sum, s) => sum.Add(s.Books));
        return new ReliabilityBenchmarkResult(load, scenarios.Count, scenarios.Count(s => s.Survived), scenarios,
            books.Published, books.Accepted, books.Rejected, books.Lost, fuzzing,
            "memory is of one process holding the gateway, its embedded broker, the simulated connections and two agents; updates are summed over the fault scenarios");
    }
}
