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
            checkpoint = BaseCheckpoint.LoadOrTrain(new TinyVitConfig(), settings.Seed, settings.CheckpointDirectory, data: data,
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
        IReadOnlyList<FleetDeviceFacts> fleetFacts;
        double dirichletAlpha;
        await using (fleet.ConfigureAwait(false))
        {
            var partition = fleet.Get<Microsoft.Extensions.Options.IOptions<EdgeLam.Gateway.Training.Rounds.TrainingOptions>>().Value;
            dirichletAlpha = partition.DirichletAlpha;
            fleetFacts = FleetFacts.Collect(spec, boards, partition.PartitionSeed, partition.DirichletAlpha, partition.PartitionCount);
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

            InferenceExperimentResult? inference = null;
            await AnsiConsole.Status().StartAsync("Inference experiment...", async context =>
            {
                inference = await InferenceExperiment.RunAsync(fleet, checkpoint.Weights, data, testSlice, settings,
                    message => context.Status(Markup.Escape("Inference: " + message)), cancellationToken).ConfigureAwait(false);
            }).ConfigureAwait(false);
            results.Inference = inference;
            PrintInference(inference!);
        }

        EdgeLam.Gateway.Unlearning.Verification.FederatedSimulationResult? unlearning = null;
        await AnsiConsole.Status().StartAsync("Unlearning experiment: a backdoor device trains with the others, then is forgotten...", async context =>
        {
            unlearning = await EdgeLam.Gateway.Unlearning.Verification.FederatedSimulation.RunAsync(checkpoint.Weights, data, new()
            {
                DeviceRanks = settings.UnlearningDeviceRanks,
                ForgottenDeviceIndex = settings.UnlearningDeviceRanks.Count - 1,
                ImagesPerDevice = settings.UnlearningImagesPerDevice,
                PublicImages = PretrainingBudget.Default.PublicImages,
                PublicSeed = settings.Seed,
                Rounds = settings.UnlearningRounds,
                LocalSteps = settings.UnlearningLocalSteps,
                TestImages = testSlice.Count,
                DatabasePath = Path.Combine(stateDirectory, "unlearning.db"),
            }, log: message => context.Status(Markup.Escape("Unlearning: " + message)), cancellationToken: cancellationToken).ConfigureAwait(false);
        }).ConfigureAwait(false);
        results.Unlearning = unlearning;
        AnsiConsole.MarkupLine("[bold]Experiment 3: unlearning a backdoor device (measured)[/]");
        Console.WriteLine(unlearning!.ToTable());
        results.UnlearningMarkdown = unlearning.ToTable();
        foreach (var target in unlearning.Targets)
            AnsiConsole.MarkupLine(target.Met ? $"[green]met[/]: {Markup.Escape(target.Requirement)}" : $"[red]missed[/]: {Markup.Escape(target.Requirement)}");

        results.Notes.Add("ESP32 timings are modelled from the board profile's MAC/s; the emulator runs the firmware core at host speed (pacing scale 0).");
        results.Notes.Add($"Inference: every device of the emulated fleet, the broker and the gateway share this host's {Environment.ProcessorCount} cores, and agents run their stages at host speed; capacity and latency are this host's, bounded by its CPU, not the boards' modelled speeds.");
        results.Plots.Add(Path.GetFileName(DemoPlots.AccuracyPerRound(outputDirectory, results.Training, baseAccuracy)));
        results.Plots.Add(Path.GetFileName(DemoPlots.BytesPerStrategy(outputDirectory, results.Training)));
        if (results.Inference is InferenceExperimentResult served)
        {
            results.Plots.Add(Path.GetFileName(DemoPlots.LatencyCdf(outputDirectory, served.Runs)));
            results.Plots.Add(Path.GetFileName(DemoPlots.TradeoffSweep(outputDirectory, served.TradeoffSweep)));
        }

        results.Seconds = clock.Elapsed.TotalSeconds;
        await File.WriteAllTextAsync(Path.Combine(outputDirectory, "results.json"),
            ResultsDocument.Build(results, SourceCommit(), fleetFacts, dirichletAlpha).ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }), cancellationToken).ConfigureAwait(false);
        await File.WriteAllTextAsync(Path.Combine(outputDirectory, "report.md"), results.ToMarkdown(), cancellationToken).ConfigureAwait(false);
        AnsiConsole.MarkupLine(CultureInfo.InvariantCulture, $"Done in {results.Seconds:0} s: results.json, report.md and {results.Plots.Count} plots in [blue]{Markup.Escape(Path.GetFullPath(outputDirectory))}[/]");
        return 0;
    }

    /// <summary>The commit the demo was built from (git rev-parse HEAD), or "unknown" outside a git checkout.</summary>
    private static string SourceCommit()
    {
        try
        {
            using var git = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("git", "rev-parse HEAD")
            {
                RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
            });
            if (git is null) return "unknown";
            var head = git.StandardOutput.ReadToEnd().Trim();
            git.WaitForExit();
            return git.ExitCode == 0 && head.Length > 0 ? head : "unknown";
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return "unknown"; // no git on this machine
        }
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
        foreach (var target in TrainingTargets.Evaluate(results.Training))
            AnsiConsole.MarkupLine(Markup.Escape("  target " + TrainingTargets.Describe(target)));
    }

    internal static void PrintInference(InferenceExperimentResult inference)
    {
        var c = CultureInfo.InvariantCulture;
        var table = new Table().Title(string.Create(c,
            $"Experiment 2: inference, QoS min accuracy {inference.MinimumAccuracy:P0}, max latency {inference.MaximumLatencyMilliseconds:0} ms; latency at {inference.ArrivalRatePerSecond:0.0} req/s Poisson ({inference.LoadFraction:P0} of microservice capacity)"))
            .Border(TableBorder.Rounded);
        table.AddColumns("strategy", "layout", "capacity req/s", "modelled***", "p50 ms", "p95 ms", "p99 ms", "QoS viol.", "accuracy", "failures", "energy mJ*", "peak mem/device**");
        foreach (var run in inference.Runs)
        {
            table.AddRow(run.Strategy, run.Layout, run.ThroughputPerSecond.ToString("0.0", c), run.ModelledCapacityPerSecond == 0 ? "n/a" : run.ModelledCapacityPerSecond.ToString("0", c), run.P50Milliseconds.ToString("0.0", c), run.P95Milliseconds.ToString("0.0", c),
                run.P99Milliseconds.ToString("0.0", c), string.Create(c, $"{run.QosViolations}/{run.Requests}"), run.Accuracy.ToString("P1", c), run.Failures.ToString(c),
                run.ModelledEnergyMillijoulesPerRequest.ToString("0.00", c), run.PeakMemoryBytesPerDevice == 0 ? "n/a" : Bytes(run.PeakMemoryBytesPerDevice));
        }

        AnsiConsole.Write(table);
        AnsiConsole.MarkupLine(Markup.Escape(string.Create(c,
            $"* modelled: measured compute time x board busy power. Cloud: whole FP32 model at the gateway + modelled WAN ({inference.ModelledWanRoundTripMilliseconds:0} ms RTT, {inference.ModelledWanMegabitsPerSecond:0} Mbit/s). ** {inference.MemoryMethod}. *** modelled capacity req/s: served requests over the busiest device's summed stage compute time (a CPU per board, broker and gateway free).")));
        foreach (var run in inference.Runs.Where(r => r.MeanStageComputeMilliseconds > 0))
            AnsiConsole.MarkupLine(Markup.Escape(string.Create(c, $"  {run.Strategy}: a stage task took {run.MeanStageComputeMilliseconds:0.00} ms of device compute and {run.MeanStageMessagingMilliseconds:0.00} ms of messaging (round trip less compute and queue wait)")));
        foreach (var target in inference.Targets)
            AnsiConsole.MarkupLine(Markup.Escape(string.Create(c, $"  target {target.Name}: {target.Measured:0.###} (required {target.Required:0.###}) {(target.Met ? "met" : "MISSED")} - {target.Detail}")));
        var sweep = new Table().Title("Drift-plus-penalty trade-off V (measured)").Border(TableBorder.Rounded);
        sweep.AddColumns("V", "mean penalty", "mean backlog ms", "mean latency ms", "QoS met", "failures");
        foreach (var point in inference.TradeoffSweep)
            sweep.AddRow(point.Tradeoff.ToString("0.###", c), point.MeanPenalty.ToString("0.000", c), point.MeanBacklogMilliseconds.ToString("0.0", c),
                point.MeanLatencyMilliseconds.ToString("0.0", c), point.QosMetFraction.ToString("P0", c), point.Failures.ToString(c));
        AnsiConsole.Write(sweep);
    }

    private static string Bytes(long bytes) => bytes >= 1 << 20
        ? string.Create(CultureInfo.InvariantCulture, $"{bytes / 1048576.0:0.00} MiB")
        : string.Create(CultureInfo.InvariantCulture, $"{bytes / 1024.0:0.0} KiB");
}
