using System.Globalization;
using EdgeLam.Boards;
using EdgeLam.Model.Architecture;
using EdgeLam.Model.Checkpoints;
using EdgeLam.Model.Data;
using Spectre.Console;

namespace EdgeLam.Cli.Demo;

/// <summary>
/// `edgelam demo`: the embedded broker, the gateway and an emulated mixed-tier fleet in one process,
/// then the experiments, printed as tables and written to results.json, report.md and PNG plots.
/// </summary>
public static class DemoRunner
{
    public static async Task<int> RunAsync(string outputDirectory, string? fleetPath, DemoSettings settings, string commandLine, CancellationToken cancellationToken)
    {
        var started = DateTimeOffset.UtcNow;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        Directory.CreateDirectory(outputDirectory);
        var boards = BoardProfileLoader.FindBoardsDirectory(Directory.GetCurrentDirectory());
        var spec = FleetSpec.Load(fleetPath ?? FleetSpec.DefaultPath(boards));
        AnsiConsole.MarkupLine($"[bold]EdgeLamIoT demo[/]: {spec.Devices.Count} devices, {settings.Rounds} rounds per strategy, results in [blue]{Markup.Escape(Path.GetFullPath(outputDirectory))}[/]");

        FashionMnistData data = null!;
        BaseCheckpoint checkpoint = null!;
        await AnsiConsole.Status().StartAsync("Loading Fashion-MNIST and the frozen base model (pretrained once, then cached)...", _ =>
        {
            data = FashionMnist.Load();
            checkpoint = BaseCheckpoint.LoadOrTrain(new TinyVitConfig(), settings.Seed, Path.Combine(".edgelam", "checkpoints"), data: data,
                log: message => AnsiConsole.MarkupLine($"  [grey]{Markup.Escape(message)}[/]"), cancellationToken: cancellationToken);
            return Task.CompletedTask;
        }).ConfigureAwait(false);
        var testSlice = data.Test.Subset(Enumerable.Range(0, Math.Min(settings.EvaluationImages, data.Test.Count)).ToArray());
        var baseAccuracy = new TinyVitModel(checkpoint.Weights).Evaluate(testSlice);
        AnsiConsole.MarkupLine(CultureInfo.InvariantCulture, $"Base [green]{checkpoint.ModelId}[/]: {baseAccuracy * 100:0.00}% on {testSlice.Count} test images ({(checkpoint.LoadedFromCache ? "cached" : "pretrained now")})");

        var results = new DemoResults
        {
            StartedAt = started,
            Command = commandLine,
            Machine = $"{Environment.ProcessorCount} cores, {Environment.OSVersion}",
            Settings = settings,
            Fleet = spec.Devices,
            BaseModelId = checkpoint.ModelId,
            BaseAccuracy = baseAccuracy,
            EvaluationImages = testSlice.Count,
        };

        var stateDirectory = Path.Combine(outputDirectory, "state-" + started.ToString("yyyyMMddHHmmss", CultureInfo.InvariantCulture));
        DemoFleet fleet = null!;
        await AnsiConsole.Status().StartAsync("Starting the gateway (embedded MQTT broker) and the emulated fleet...", async _ =>
        {
            fleet = await DemoFleet.StartAsync(spec, boards, stateDirectory, checkpoint, data, settings, cancellationToken).ConfigureAwait(false);
        }).ConfigureAwait(false);
        await using (fleet.ConfigureAwait(false))
        {
            AnsiConsole.MarkupLine($"Fleet registered: {string.Join(", ", spec.Devices.Select(d => $"{d.Id} ({d.Board})"))}");
            AnsiConsole.MarkupLine("[grey]Watch live: mosquitto_sub -h 127.0.0.1 -p <port> -u gateway -P change-me-gateway -t 'edgelam/v1/#' -v[/]");

            IReadOnlyList<StrategyRun> training = [];
            await AnsiConsole.Progress().Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
                .StartAsync(async progress =>
                {
                    var tasks = TrainingExperiment.Strategies.ToDictionary(s => s.Name, s => progress.AddTask($"train {s.Name}", maxValue: settings.Rounds));
                    training = await TrainingExperiment.RunAsync(fleet, checkpoint.Weights, testSlice, settings,
                        (name, round, accuracy) =>
                        {
                            tasks[name].Increment(1);
                            tasks[name].Description = string.Create(CultureInfo.InvariantCulture, $"train {name} r{round}: {accuracy * 100:0.0}%");
                        }, cancellationToken).ConfigureAwait(false);
                }).ConfigureAwait(false);
            results = results with { Training = training };
            PrintTraining(results);
        }

        results.Notes.Add("full_fedavg (every device sends all model weights) is not run: the wire contract has no full-weight update message yet.");
        results.Notes.Add("ESP32 timings are modelled from the board profile's MAC/s; the emulator runs the firmware core at host speed (pacing scale 0).");
        results.Plots.Add(Path.GetFileName(DemoPlots.AccuracyPerRound(outputDirectory, results.Training, baseAccuracy)));
        results.Plots.Add(Path.GetFileName(DemoPlots.BytesPerStrategy(outputDirectory, results.Training)));
        results.Seconds = clock.Elapsed.TotalSeconds;
        await File.WriteAllTextAsync(Path.Combine(outputDirectory, "results.json"), results.ToJson(), cancellationToken).ConfigureAwait(false);
        await File.WriteAllTextAsync(Path.Combine(outputDirectory, "report.md"), results.ToMarkdown(), cancellationToken).ConfigureAwait(false);
        AnsiConsole.MarkupLine(CultureInfo.InvariantCulture, $"Done in {results.Seconds:0} s: results.json, report.md and {results.Plots.Count} plots in [blue]{Markup.Escape(Path.GetFullPath(outputDirectory))}[/]");
        return 0;
    }

    private static void PrintTraining(DemoResults results)
    {
        var table = new Table().Title("Experiment 1: federated fine-tuning (measured)").Border(TableBorder.Rounded);
        table.AddColumns("strategy", "final acc.", "Δ vs base", "uplink", "downlink", "failures", "seconds");
        foreach (var run in results.Training)
        {
            table.AddRow(run.Strategy,
                string.Create(CultureInfo.InvariantCulture, $"{run.FinalAccuracy * 100:0.00}%"),
                string.Create(CultureInfo.InvariantCulture, $"{(run.FinalAccuracy - results.BaseAccuracy) * 100:+0.00;-0.00} pt"),
                Bytes(run.UplinkBytes), Bytes(run.DownlinkBytes),
                run.Rounds.Sum(r => r.Failures).ToString(CultureInfo.InvariantCulture),
                run.Seconds.ToString("0.0", CultureInfo.InvariantCulture));
        }

        AnsiConsole.Write(table);
    }

    private static string Bytes(long bytes) => bytes >= 1 << 20
        ? string.Create(CultureInfo.InvariantCulture, $"{bytes / 1048576.0:0.00} MiB")
        : string.Create(CultureInfo.InvariantCulture, $"{bytes / 1024.0:0.0} KiB");
}
