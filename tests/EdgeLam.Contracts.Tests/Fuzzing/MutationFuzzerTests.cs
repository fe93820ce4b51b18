using EdgeLam.Contracts.Tests.Golden;
using EdgeLam.Contracts.Wire;
using EdgeLam.Fuzz.Engine;
using EdgeLam.Fuzz.Targets;

namespace EdgeLam.Contracts.Tests.Fuzzing;

/// <summary>The fuzzing engine finds each kind of defect it promises to, and the real decoders have none in a short run.</summary>
public sealed class MutationFuzzerTests : IDisposable
{
    private readonly string _findings = Path.Combine(Path.GetTempPath(), "edgelam-fuzz-" + Guid.NewGuid().ToString("N"));
    private readonly ManualResetEventSlim _releaseHang = new();

    private static readonly byte[][] Seeds = [[1, 2, 3, 4], "ELTF"u8.ToArray(), new byte[32]];

    [Fact]
    public void An_exception_other_than_the_documented_one_is_a_finding_saved_with_its_input()
    {
        var target = new FuzzTarget("index-bug", Seeds, data =>
        {
            if (data.Length > 0 && data[0] == 0xFF) throw new WireFormatException(WireErrorCode.BadMagic, "refused");
            if (data.Length > 40) _ = data[data.Length + 1]; // the defect: reads past the end of long inputs
        }, typeof(WireFormatException));

        var report = MutationFuzzer.Run(target, Options(TimeSpan.FromSeconds(30)) with { MaximumInputs = 20_000 });

        var finding = Assert.Single(report.Findings);
        Assert.Equal(FindingKind.UnexpectedException, finding.Kind);
        Assert.Contains("IndexOutOfRangeException", finding.Description, StringComparison.Ordinal);
        Assert.True(File.ReadAllBytes(finding.InputPath!).Length > 40);
        Assert.True(report.Inputs > report.Findings.Count);
        Assert.Contains("\"findings\":1", report.ToJson(), StringComparison.Ordinal);
    }

    [Fact]
    public void An_input_that_runs_past_the_time_limit_is_a_hang()
    {
        var target = new FuzzTarget("hang-bug", Seeds, data =>
        {
            if (data.Length > 48) _releaseHang.Wait(); // the defect: never returns on long inputs
        }, typeof(WireFormatException));

        var report = MutationFuzzer.Run(target, Options(TimeSpan.FromSeconds(30)) with { PerInputTimeLimit = TimeSpan.FromMilliseconds(200) });

        var finding = Assert.Single(report.Findings);
        Assert.Equal(FindingKind.Hang, finding.Kind);
        Assert.True(finding.InputLength > 48);
        Assert.True(report.Seconds < 30, "the run stops at the hang instead of waiting out its budget");
    }

    [Fact]
    public void An_allocation_sized_by_the_input_rather_than_checked_against_it_is_a_finding()
    {
        var target = new FuzzTarget("allocation-bug", Seeds, data =>
        {
            // The defect: trusts a declared length and allocates it before checking the bytes are there.
            if (data.Length >= 4 && data[0] == 0xEE) GC.KeepAlive(new byte[BitConverter.ToInt32(data, 0) & 0x7FFFFFF]);
        }, typeof(WireFormatException));

        var report = MutationFuzzer.Run(target, Options(TimeSpan.FromSeconds(30)) with { MaximumInputs = 20_000, AllocationBaseBytes = 1024 * 1024 });

        Assert.Contains(report.Findings, f => f.Kind == FindingKind.ExcessiveAllocation);
    }

    [Theory]
    [InlineData("frame")]
    [InlineData("bundle")]
    [InlineData("message")]
    [InlineData("mqtt")]
    public void The_decoders_survive_a_short_fuzzing_run_seeded_from_the_golden_vectors(string name)
    {
        var target = FuzzTargets.Create(name, GoldenVectors.Folder);

        var report = MutationFuzzer.Run(target, Options(TimeSpan.FromSeconds(60)) with { MaximumInputs = target.Seeds.Count + 1500 });

        Assert.True(report.Findings.Count == 0, string.Join("\n", report.Findings.Select(f => $"{f.Kind} {f.InputPath}: {f.Description}")));
        Assert.Equal(target.Seeds.Count + 1500, report.Inputs);
        Assert.True(report.Refusals > 0);
    }

    public void Dispose()
    {
        _releaseHang.Set();
        _releaseHang.Dispose();
        try { Directory.Delete(_findings, recursive: true); } catch (DirectoryNotFoundException) { }
    }

    private FuzzOptions Options(TimeSpan budget) => new() { Budget = budget, Seed = 7, FindingsDirectory = _findings };
}
