using System.CommandLine;
using EdgeLam.Model.Benchmarks;

namespace EdgeLam.Cli.Commands;

/// <summary>`edgelam bench &lt;area&gt;`: benchmarks that print measured figures.</summary>
internal static class BenchCommand
{
    public static Command Create()
    {
        var bench = new Command("bench", "Run a benchmark and print measured figures");
        bench.Subcommands.Add(CreateModelBenchmark());
        bench.Subcommands.Add(CreateAgentBenchmark());
        bench.Subcommands.Add(CreateMcuBenchmark());
        bench.Subcommands.Add(CreateUnlearningBenchmark());
        bench.Subcommands.Add(CreateSchedulerBenchmark());
        bench.Subcommands.Add(CreateReliabilityBenchmark());
        bench.Subcommands.Add(CreateAggregationBenchmark());
        bench.Subcommands.Add(CreateInferenceBenchmark());
        bench.Subcommands.Add(CreateTrainingBenchmark());
        return bench;
    }

    /// <summary>`edgelam bench inference [--quick] [--fleet FILE] [--json FILE]`: the demo's inference experiment alone on the emulated fleet.</summary>
    private static Command CreateInferenceBenchmark()
    {
        var quick = new Option<bool>("--quick") { Description = "The quick demo's request count" };
        var fleet = new Option<FileInfo?>("--fleet") { Description = "Fleet spec (default hardware/fleets/demo-fleet.json)" };
        var json = new Option<FileInfo?>("--json") { Description = "Also write every measured field of the inference experiment (per-device tasks and bytes, latencies, placement) as JSON to this file" };
        var command = new Command("inference", "The demo's inference experiment alone (capacity, latency, QoS, memory per strategy, and its targets) on the emulated fleet") { quick, fleet, json };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var settings = parseResult.GetValue(quick) ? EdgeLam.Cli.Demo.DemoSettings.Quick : new EdgeLam.Cli.Demo.DemoSettings();
            var result = await EdgeLam.Cli.Demo.InferenceBenchmark.RunAsync(parseResult.GetValue(fleet)?.FullName, settings, parseResult.GetValue(json)?.FullName, cancellationToken).ConfigureAwait(false);
            return result.Targets.All(t => t.Met) ? 0 : 1;
        });
        return command;
    }

    /// <summary>`edgelam bench training [...]`: the demo's training experiment in-process, with its targets, to compare recipes.</summary>
    private static Command CreateTrainingBenchmark()
    {
        var defaults = new EdgeLam.Cli.Demo.TrainingQualitySettings();
        var epochs = new Option<int>("--pretraining-epochs") { Description = "Epochs of the base's pretraining on the public slice", DefaultValueFactory = _ => defaults.Budget.Epochs };
        var pretrainingBatch = new Option<int>("--pretraining-batch") { Description = "Batch size of the base's pretraining", DefaultValueFactory = _ => defaults.Budget.BatchSize };
        var rounds = new Option<int>("--rounds") { DefaultValueFactory = _ => defaults.Rounds };
        var steps = new Option<int>("--local-steps") { DefaultValueFactory = _ => defaults.LocalSteps };
        var learningRate = new Option<double>("--learning-rate") { DefaultValueFactory = _ => defaults.LearningRate };
        var alpha = new Option<double>("--dirichlet-alpha") { DefaultValueFactory = _ => defaults.DirichletAlpha };
        var projections = new Option<string>("--projections") { Description = "Adapted projections, comma-separated (q,v,blocks.3.fc2), or all", DefaultValueFactory = _ => string.Join(',', defaults.AdaptedProjections) };
        var tierProjections = new Option<string>("--tier-projections")
        {
            Description = "Projections a tier trains instead of --projections, as TIER=p,p;TIER=p (L=blocks.3.fc2;H=q,v,fc1), or none",
            DefaultValueFactory = _ => FormatTierProjections(defaults.AdaptedProjectionsByTier),
        };
        var strategies = new Option<string>("--strategies") { DefaultValueFactory = _ => string.Join(',', defaults.Strategies) };
        var freshAdapters = new Option<bool>("--fresh-adapters")
        {
            Description = "fedft_h devices merge the global into their base every round and train fresh adapters on it; the global grows by the mean of their changes",
        };
        var command = new Command("training", "The demo's federated fine-tuning in-process (agents' and firmware's trainers, the gateway's strategies, no MQTT): accuracy per round, uplink factor bytes and the training targets")
            { epochs, pretrainingBatch, rounds, steps, learningRate, alpha, projections, tierProjections, strategies, freshAdapters };
        command.SetAction((parseResult, cancellationToken) =>
        {
            var selection = parseResult.GetValue(projections)!;
            if (ParseTierProjections(parseResult.GetValue(tierProjections)!, out var byTier) is { } syntaxError)
            {
                Console.Error.WriteLine("edgelam bench training: --tier-projections: " + syntaxError);
                return Task.FromResult(2);
            }
            var settings = defaults with
            {
                Budget = EdgeLam.Model.Checkpoints.PretrainingBudget.Default with { Epochs = parseResult.GetValue(epochs), BatchSize = parseResult.GetValue(pretrainingBatch) },
                Rounds = parseResult.GetValue(rounds),
                LocalSteps = parseResult.GetValue(steps),
                LearningRate = parseResult.GetValue(learningRate),
                DirichletAlpha = parseResult.GetValue(alpha),
                AdaptedProjections = selection == "all" ? [] : selection.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
                AdaptedProjectionsByTier = byTier,
                Strategies = parseResult.GetValue(strategies)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
                FreshAdapters = parseResult.GetValue(freshAdapters),
            };
            if (settings.ProjectionOptions().AdaptedProjectionsError(new EdgeLam.Model.Architecture.TinyVitConfig()) is { } selectionError)
            {
                Console.Error.WriteLine("edgelam bench training: " + selectionError);
                return Task.FromResult(2);
            }
            var boards = EdgeLam.Boards.BoardProfileLoader.FindBoardsDirectory(Directory.GetCurrentDirectory());
            var spec = EdgeLam.Cli.Demo.FleetSpec.Load(EdgeLam.Cli.Demo.FleetSpec.DefaultPath(boards));
            var runs = EdgeLam.Cli.Demo.TrainingQualityBenchmark.Run(boards, spec, settings, new EdgeLam.Cli.Demo.DemoSettings(), message => Console.Error.WriteLine(message));
            foreach (var run in runs)
                Console.Out.WriteLine(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                    $"{run.Strategy,-16} {string.Join(" ", run.Rounds.Select(r => (r.Accuracy * 100).ToString("0.00", System.Globalization.CultureInfo.InvariantCulture)))}  uplink {run.UplinkBytes} bytes"));
            foreach (var target in EdgeLam.Cli.Demo.TrainingTargets.Evaluate(runs))
                Console.Out.WriteLine("target " + EdgeLam.Cli.Demo.TrainingTargets.Describe(target));
            return Task.FromResult(0);
        });
        return command;
    }

    private static string FormatTierProjections(IReadOnlyDictionary<string, IReadOnlyList<string>> byTier) =>
        byTier.Count == 0 ? "none" : string.Join(';', byTier.OrderBy(e => e.Key, StringComparer.Ordinal).Select(e => $"{e.Key}={string.Join(',', e.Value)}"));

    /// <summary>"L=blocks.3.fc2;H=q,v" as a tier-keyed selection ("none": empty); a sentence saying what is wrong, or null.</summary>
    private static string? ParseTierProjections(string text, out IReadOnlyDictionary<string, IReadOnlyList<string>> byTier)
    {
        var result = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        byTier = result;
        if (text.Trim() == "none")
            return null;
        foreach (var entry in text.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var parts = entry.Split('=', 2, StringSplitOptions.TrimEntries);
            var projections = parts.Length == 2 ? parts[1].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) : [];
            if (parts[0].Length == 0 || projections.Length == 0)
                return $"'{entry}' is not TIER=projection,projection (e.g. L=blocks.3.fc2).";
            if (!result.TryAdd(parts[0], projections))
                return $"tier {parts[0]} is given twice.";
        }
        return null;
    }

    /// <summary>`edgelam bench aggregation [--json]`: round aggregation time and memory of fedft_h and fedlora_zeropad at 10, 100 and 1000 clients.</summary>
    private static Command CreateAggregationBenchmark()
    {
        var json = new Option<bool>("--json") { Description = "Print one JSON object instead of a table" };
        var command = new Command("aggregation", "Time and allocated bytes of one round's aggregation (with every downlink) for fedft_h and fedlora_zeropad at 10, 100 and 1000 clients of the demo fleet's rank mix, and their ratio") { json };
        command.SetAction((parseResult, cancellationToken) =>
        {
            var result = EdgeLam.Gateway.Training.Benchmarks.AggregationBenchmark.Run(progress: message => Console.Error.WriteLine(message));
            Console.Out.WriteLine(parseResult.GetValue(json) ? result.ToJson() : result.ToTable());
            return Task.FromResult(0);
        });
        return command;
    }

    /// <summary>`edgelam bench reliability [--json]`: 1,000 held device connections with inference load, then every fault scenario, with the update ledger.</summary>
    private static Command CreateReliabilityBenchmark()
    {
        var json = new Option<bool>("--json") { Description = "Print one JSON object" };
        var connections = new Option<int>("--connections") { Description = "Simulated device connections", DefaultValueFactory = _ => 1_000 };
        var seconds = new Option<int>("--hold-seconds") { Description = "How long the connections are held under inference load", DefaultValueFactory = _ => 20 };
        var rate = new Option<double>("--requests-per-second") { Description = "Upper bound of the inference request rate; the run sustains at most half the capacity it measures first", DefaultValueFactory = _ => 10 };
        var linkDrop = new Option<int>("--link-drop-seconds") { Description = "How long a device's link is down in the link-drop scenario", DefaultValueFactory = _ => 30 };
        var fuzzSeconds = new Option<double>("--fuzz-seconds") { Description = "Seconds of mutation fuzzing of each decoder (frame, bundle, message, mqtt)", DefaultValueFactory = _ => 10 };
        var command = new Command("reliability", "Connections held, requests served with latency percentiles, fault scenarios survived and the update ledger (lost must be 0), peak memory, fuzzing of the decoders (findings must be 0)")
        {
            json, connections, seconds, rate, linkDrop, fuzzSeconds,
        };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            if (parseResult.GetValue(connections) < 1 || parseResult.GetValue(seconds) < 1 || parseResult.GetValue(rate) <= 0 || parseResult.GetValue(linkDrop) < 1
                || !(parseResult.GetValue(fuzzSeconds) > 0))
            {
                Console.Error.WriteLine("edgelam bench reliability: --connections, --hold-seconds, --requests-per-second, --link-drop-seconds and --fuzz-seconds must be positive.");
                return 2;
            }

            void Log(string message) => Console.Error.WriteLine(message);
            var result = await EdgeLam.Reliability.ReliabilityBenchmark.RunAsync(new EdgeLam.Reliability.ReliabilityBenchmarkOptions
            {
                Load = new EdgeLam.Reliability.ConnectionLoadOptions
                {
                    Connections = parseResult.GetValue(connections),
                    Hold = TimeSpan.FromSeconds(parseResult.GetValue(seconds)),
                    RequestsPerSecond = parseResult.GetValue(rate),
                    Log = Log,
                },
                Faults = new EdgeLam.Reliability.FaultScenarioOptions { LinkDrop = TimeSpan.FromSeconds(parseResult.GetValue(linkDrop)), Log = Log },
                Fuzzing = new EdgeLam.Reliability.FuzzingBenchmarkOptions { BudgetPerTarget = TimeSpan.FromSeconds(parseResult.GetValue(fuzzSeconds)), Log = Log },
            }, cancellationToken).ConfigureAwait(false);
            Console.Out.WriteLine(result.ToJson());
            foreach (var finding in result.Fuzzing.Findings)
                Console.Error.WriteLine($"fuzz finding in {finding.Target}: {finding.Kind}: {finding.InputPath ?? "(not saved)"}: {finding.Description}");
            return result.Passed ? 0 : 1;
        });
        return command;
    }

    /// <summary>`edgelam bench agent [--provider cpu|cuda]`: per-variant ONNX Runtime latency of each stage and LoRA training speed on this machine.</summary>
    private static Command CreateAgentBenchmark() => EdgeLam.Agent.Benchmarks.AgentBenchmarkCommand.Create("agent");

    /// <summary>`edgelam bench scheduler [--json]`: time per drift-plus-penalty decision at 10, 100 and 1000 devices, and a V sweep.</summary>
    private static Command CreateSchedulerBenchmark()
    {
        var json = new Option<bool>("--json") { Description = "Print one JSON object instead of a table" };
        var command = new Command("scheduler", "Time per scheduling decision at 10, 100 and 1000 devices (4 variants per stage) against the plain filter, and a V sweep of mean cost against mean backlog") { json };
        command.SetAction((parseResult, cancellationToken) =>
        {
            var result = EdgeLam.Gateway.Inference.Scheduling.SchedulerBenchmark.Run(progress: message => Console.Error.WriteLine(message));
            Console.Out.WriteLine(parseResult.GetValue(json) ? result.ToJson() : result.ToTable());
            return Task.FromResult(0);
        });
        return command;
    }

    /// <summary>`edgelam bench unlearning [--json] [--forget I] [--seed N]`: seconds and metrics of each unlearning method and of retraining, in one run.</summary>
    private static Command CreateUnlearningBenchmark()
    {
        var json = new Option<bool>("--json") { Description = "Print one JSON object instead of a table" };
        var ranks = new List<int> { 16, 8, 8, 4 };
        var forget = new Option<int>("--forget")
        {
            Description = $"Index of the device (ranks {string.Join('/', ranks)}) that plants the backdoor and is forgotten",
            DefaultValueFactory = _ => ranks.Count - 1,
        };
        var seed = new Option<int>("--seed") { Description = "Seed of the shards, the backdoor sample and the devices' training", DefaultValueFactory = _ => new EdgeLam.Gateway.Unlearning.Verification.FederatedSimulationOptions().Seed };
        var command = new Command("unlearning", "A backdoor device trains with the fleet, then subtract, exact_recompute, orthogonal and calibrated remove it; retraining from scratch is the reference") { json, forget, seed };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            if (parseResult.GetValue(forget) is var index && (index < 0 || index >= ranks.Count))
            {
                Console.Error.WriteLine($"--forget must be 0..{ranks.Count - 1}, got {index}.");
                return 2;
            }
            var data = EdgeLam.Model.Data.FashionMnist.Load();
            var checkpoint = EdgeLam.Model.Checkpoints.BaseCheckpoint.LoadOrTrain(new EdgeLam.Model.Architecture.TinyVitConfig(), 1, Path.Combine(".edgelam", "checkpoints"),
                data: data, log: message => Console.Error.WriteLine(message), cancellationToken: cancellationToken);
            var result = await EdgeLam.Gateway.Unlearning.Verification.FederatedSimulation.RunAsync(checkpoint.Weights, data, new()
            {
                DeviceRanks = ranks,
                ForgottenDeviceIndex = parseResult.GetValue(forget),
                Seed = parseResult.GetValue(seed),
                PublicImages = EdgeLam.Model.Checkpoints.PretrainingBudget.Default.PublicImages,
                PublicSeed = 1,
            }, log: message => Console.Error.WriteLine(message), cancellationToken: cancellationToken).ConfigureAwait(false);
            Console.Out.WriteLine(parseResult.GetValue(json) ? result.ToJsonText() : result.ToTable());
            return 0;
        });
        return command;
    }

    /// <summary>`edgelam bench mcu [--json]`: the firmware's integer stages in the emulator against the ESP32 budget and ONNX Runtime.</summary>
    private static Command CreateMcuBenchmark()
    {
        var json = new Option<bool>("--json") { Description = "Print one JSON object" };
        var board = new Option<FileInfo>("--board") { Description = "Board profile", DefaultValueFactory = _ => new FileInfo(Path.Combine("hardware", "boards", "esp32-wrover.json")) };
        var command = new Command("mcu", "MACs and peak RAM per stage against the board budget, int8 MAC/s of the firmware kernel vs ONNX Runtime, integer-stage accuracy") { json, board };
        command.SetAction((parseResult, cancellationToken) =>
        {
            var data = EdgeLam.Model.Data.FashionMnist.Load();
            var checkpoint = EdgeLam.Model.Checkpoints.BaseCheckpoint.LoadOrTrain(new EdgeLam.Model.Architecture.TinyVitConfig(), 1, Path.Combine(".edgelam", "checkpoints"),
                data: data, log: message => Console.Error.WriteLine(message), cancellationToken: cancellationToken);
            var profile = EdgeLam.Boards.BoardProfileLoader.Load(parseResult.GetValue(board)!.FullName);
            var result = EdgeLam.Firmware.Emulator.Benchmarks.McuBenchmark.Run(checkpoint.Weights, data, profile);
            Console.Out.WriteLine(result.ToJson());
            return Task.FromResult(0);
        });
        return command;
    }

    /// <summary>`edgelam bench model [--json]`: accuracy, size and latency of the model variants (see ModelBenchmark).</summary>
    private static Command CreateModelBenchmark()
    {
        var json = new Option<bool>("--json") { Description = "Print one JSON object instead of a table" };
        var cache = new Option<string>("--cache-dir")
        {
            Description = "Folder of the cached base checkpoint",
            DefaultValueFactory = _ => Path.Combine(".edgelam", "checkpoints"),
        };
        var testImages = new Option<int?>("--test-images") { Description = "Measure accuracy on the first N test images (default: all 10000)" };
        var command = new Command("model", "Base, LoRA and full fine-tune accuracy; FP32/FP16/INT8/Pruned-INT8 accuracy and size in ONNX Runtime; forward latency")
        {
            json, cache, testImages,
        };
        command.SetAction((parseResult, cancellationToken) =>
        {
            var images = parseResult.GetValue(testImages);
            if (images is <= 0)
            {
                Console.Error.WriteLine($"edgelam bench model: --test-images must be positive, got {images}.");
                return Task.FromResult(2);
            }
            var options = new ModelBenchmarkOptions
            {
                CacheDirectory = parseResult.GetValue(cache) ?? Path.Combine(".edgelam", "checkpoints"),
                TestImages = images,
            };
            // Progress goes to stderr so that stdout holds only the result.
            var result = ModelBenchmark.Run(options, message => Console.Error.WriteLine(message), cancellationToken);
            Console.Out.WriteLine(parseResult.GetValue(json) ? result.ToJsonText() : result.ToTable());
            return Task.FromResult(0);
        });
        return command;
    }
}
