using System.CommandLine;
using EdgeLam.Cli.Demo;

namespace EdgeLam.Cli.Commands;

/// <summary>`edgelam demo`: the main job, end to end on an emulated mixed-tier fleet.</summary>
internal static class DemoCommand
{
    public static Command Create()
    {
        var output = new Option<DirectoryInfo>("--out") { Description = "Where results.json, report.md and the plots go", DefaultValueFactory = _ => new DirectoryInfo("demo-results") };
        var fleet = new Option<FileInfo?>("--fleet") { Description = "Fleet spec (default hardware/fleets/demo-fleet.json)" };
        var rounds = new Option<int?>("--rounds") { Description = "Training rounds per strategy" };
        var quick = new Option<bool>("--quick") { Description = "A smaller run (2 rounds, fewer steps) for a first look" };
        var command = new Command("demo", "Run the three experiments (training, inference, unlearning) on an emulated mixed-tier fleet") { output, fleet, rounds, quick };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var settings = parse.GetValue(quick) ? DemoSettings.Quick : new DemoSettings();
            if (parse.GetValue(rounds) is { } r) settings = settings with { Rounds = r };
            var commandLine = "./edgelam " + string.Join(' ', Environment.GetCommandLineArgs().Skip(1));
            try
            {
                return await DemoRunner.RunAsync(parse.GetValue(output)!.FullName, parse.GetValue(fleet)?.FullName, settings, commandLine, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is IOException or InvalidDataException or TimeoutException or ArgumentException or EdgeLam.Boards.BoardProfileException)
            {
                Console.Error.WriteLine($"edgelam demo: {ex.Message}");
                return 1;
            }
        });
        return command;
    }
}
