using System.CommandLine;

namespace EdgeLam.Cli.Commands;

/// <summary>`edgelam bench &lt;area&gt;`: benchmarks that print measured figures.</summary>
internal static class BenchCommand
{
    public static Command Create()
    {
        var bench = new Command("bench", "Run a benchmark and print measured figures");
        return bench;
    }
}
