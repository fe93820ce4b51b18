using EdgeLam.Boards;
using EdgeLam.Model.Architecture;
using EdgeLam.Model.Checkpoints;
using EdgeLam.Model.Data;
using Spectre.Console;

namespace EdgeLam.Cli.Demo;

/// <summary>
/// `edgelam bench inference`: the demo's inference experiment alone (no training, no unlearning) on the emulated
/// fleet, printed as the demo prints it and optionally written as JSON.
/// </summary>
public static class InferenceBenchmark
{
    // Every measured field, per-device counts and latencies included (results.json keeps only the contract's summary).
    private static readonly System.Text.Json.JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = System.Text.Json.JsonNamingPolicy.SnakeCaseLower,
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public static async Task<InferenceExperimentResult> RunAsync(string? fleetPath, DemoSettings settings, string? jsonPath, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var boards = BoardProfileLoader.FindBoardsDirectory(Directory.GetCurrentDirectory());
        var spec = FleetSpec.Load(fleetPath ?? FleetSpec.DefaultPath(boards));
        var data = FashionMnist.Load();
        var checkpoint = BaseCheckpoint.LoadOrTrain(new TinyVitConfig(), settings.Seed, settings.CheckpointDirectory, data: data,
            log: message => Console.Error.WriteLine(message), cancellationToken: cancellationToken);
        var testSlice = data.Test.Subset(Enumerable.Range(0, Math.Min(settings.EvaluationImages, data.Test.Count)).ToArray());
        var stateDirectory = Path.Combine(Path.GetTempPath(), "edgelam-bench-inference-" + Guid.NewGuid().ToString("N")[..8]);
        InferenceExperimentResult result;
        try
        {
            var fleet = await DemoFleet.StartAsync(spec, boards, stateDirectory, checkpoint, data, settings, cancellationToken).ConfigureAwait(false);
            await using (fleet.ConfigureAwait(false))
            {
                result = await InferenceExperiment.RunAsync(fleet, checkpoint.Weights, data, testSlice, settings,
                    message => Console.Error.WriteLine("Inference: " + message), cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            try
            {
                Directory.Delete(stateDirectory, recursive: true);
            }
            catch (IOException)
            {
                // A state file still held open is left for the OS to clean up with the temp folder.
            }
        }

        DemoRunner.PrintInference(result);
        AnsiConsole.MarkupLine(Markup.Escape("Per-stage placement: " + string.Join("; ", result.Placements)));
        if (jsonPath is not null)
        {
            await File.WriteAllTextAsync(jsonPath, System.Text.Json.JsonSerializer.Serialize(result, JsonOptions), cancellationToken).ConfigureAwait(false);
            AnsiConsole.MarkupLine($"Inference results in [blue]{Markup.Escape(Path.GetFullPath(jsonPath))}[/]");
        }

        return result;
    }
}
