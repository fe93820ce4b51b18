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
        return bench;
    }

    /// <summary>`edgelam bench model [--json]`: accuracy, size and latency of the model variants (see ModelBenchmark).</summary>
    private static Command CreateModelBenchmark()
    {
        var json = new Option<bool>("--json") { Description = "Print one JSON object instead of a table" };
        var cache = new Option<string>("--cache-dir")
        {
            Description = "Folder of the cached base checkpoint",
            DefaultValueFactory = _ => Path.Combine(".edgelam", "cache"),
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
                CacheDirectory = parseResult.GetValue(cache) ?? Path.Combine(".edgelam", "cache"),
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
