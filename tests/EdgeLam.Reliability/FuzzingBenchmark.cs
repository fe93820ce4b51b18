using EdgeLam.Fuzz.Engine;
using EdgeLam.Fuzz.Targets;

namespace EdgeLam.Reliability;

/// <summary>How long the wire decoders and the firmware's MQTT parser are fuzzed within the reliability benchmark.</summary>
public sealed record FuzzingBenchmarkOptions
{
    /// <summary>Time budget of each target.</summary>
    public TimeSpan BudgetPerTarget { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Stop each target after this many inputs even if time is left (tests use it to stay independent of machine speed).</summary>
    public long? MaximumInputsPerTarget { get; init; }

    /// <summary>Seed of the mutation sequences; printed so a finding can be reproduced with `./edgelam fuzz`.</summary>
    public int Seed { get; init; } = 1;

    /// <summary>Where inputs that revealed a defect are saved (a folder per target).</summary>
    public string FindingsDirectory { get; init; } = "fuzz-findings";

    /// <summary>The folder of golden vectors the mutations start from; null finds tests/golden above the working directory.</summary>
    public string? GoldenDirectory { get; init; }

    public Action<string> Log { get; init; } = _ => { };
}

/// <summary>One finding of the benchmark's fuzzing: its kind, the saved input and the first line of what happened.</summary>
public sealed record FuzzingFinding(string Target, string Kind, string? InputPath, int InputLength, string Description);

/// <summary>Inputs run, their rate and the findings of one fuzz target.</summary>
public sealed record FuzzTargetResult(string Target, long Inputs, double Seconds, double ExecutionsPerSecond, long Accepted, long Refusals, int Findings);

/// <summary>The `fuzzing` section of `edgelam bench reliability`: each target, totals and every finding by name.</summary>
public sealed record FuzzingResult(
    int Seed,
    double BudgetSecondsPerTarget,
    IReadOnlyList<FuzzTargetResult> Targets,
    long TotalInputs,
    double TotalSeconds,
    int TotalFindings,
    IReadOnlyList<FuzzingFinding> Findings);

/// <summary>Runs the mutation fuzzer of tests/EdgeLam.Fuzz over every target for a budget each.</summary>
public static class FuzzingBenchmark
{
    public static FuzzingResult Run(FuzzingBenchmarkOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.BudgetPerTarget <= TimeSpan.Zero)
            throw new ArgumentOutOfRangeException(nameof(options), $"the fuzzing budget per target must be positive, got {options.BudgetPerTarget}");
        var golden = options.GoldenDirectory ?? GoldenSeeds.FindDirectory();
        var fuzzOptions = new FuzzOptions
        {
            Budget = options.BudgetPerTarget,
            MaximumInputs = options.MaximumInputsPerTarget,
            Seed = options.Seed,
            FindingsDirectory = options.FindingsDirectory,
        };
        var targets = new List<FuzzTargetResult>();
        var findings = new List<FuzzingFinding>();
        foreach (var name in FuzzTargets.Names)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var report = MutationFuzzer.Run(FuzzTargets.Create(name, golden), fuzzOptions, cancellationToken);
            options.Log($"fuzz {report.ToText()}");
            targets.Add(new FuzzTargetResult(report.Target, report.Inputs, Math.Round(report.Seconds, 3), Math.Round(report.ExecutionsPerSecond, 1),
                report.Accepted, report.Refusals, report.Findings.Count));
            findings.AddRange(report.Findings.Select(f => new FuzzingFinding(report.Target, f.Kind.ToString(), f.InputPath, f.InputLength, f.Description.Split('\n')[0])));
        }

        return new FuzzingResult(options.Seed, options.BudgetPerTarget.TotalSeconds, targets,
            targets.Sum(t => t.Inputs), Math.Round(targets.Sum(t => t.Seconds), 3), findings.Count, findings);
    }
}
