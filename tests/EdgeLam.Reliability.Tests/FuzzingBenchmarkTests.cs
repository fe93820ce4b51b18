using EdgeLam.Reliability;

namespace EdgeLam.Reliability.Tests;

/// <summary>The fuzzing section of `edgelam bench reliability`, on an input count rather than a time budget.</summary>
public sealed class FuzzingBenchmarkTests
{
    [Fact]
    public void A_small_input_budget_fuzzes_every_decoder_and_sums_the_targets()
    {
        var findings = Path.Combine(Path.GetTempPath(), "edgelam-fuzz-" + Guid.NewGuid().ToString("N"));
        try
        {
            var result = FuzzingBenchmark.Run(new FuzzingBenchmarkOptions
            {
                BudgetPerTarget = TimeSpan.FromSeconds(30),
                MaximumInputsPerTarget = 300,
                FindingsDirectory = findings,
            });

            Assert.Equal(["frame", "bundle", "message", "mqtt"], result.Targets.Select(t => t.Target));
            Assert.All(result.Targets, t =>
            {
                Assert.True(t.Inputs >= 300, $"{t.Target}: {t.Inputs} inputs");
                Assert.True(t.Seconds > 0 && t.ExecutionsPerSecond > 0, $"{t.Target}: {t.Seconds} s, {t.ExecutionsPerSecond} exec/s");
                Assert.Equal(t.Inputs, t.Accepted + t.Refusals);
            });
            Assert.Equal(result.Targets.Sum(t => t.Inputs), result.TotalInputs);
            Assert.Equal(result.Targets.Sum(t => t.Findings), result.TotalFindings);
            Assert.Equal(result.TotalFindings, result.Findings.Count);
            Assert.True(result.Findings.Count == 0, string.Join("\n", result.Findings));
        }
        finally
        {
            if (Directory.Exists(findings)) Directory.Delete(findings, recursive: true);
        }
    }

    [Fact]
    public void A_budget_that_is_not_positive_is_refused_by_name() =>
        Assert.Contains("budget", Assert.Throws<ArgumentOutOfRangeException>(() => FuzzingBenchmark.Run(new FuzzingBenchmarkOptions { BudgetPerTarget = TimeSpan.Zero })).Message);
}
