using System.CommandLine;

namespace EdgeLam.Agent.Benchmarks;

/// <summary>
/// The agent benchmark as a command: <c>edgelam bench agent</c> on a development host, and <c>EdgeLam.Agent bench</c> on
/// the board itself, where the measured latencies replace the profile's estimates.
/// </summary>
public static class AgentBenchmarkCommand
{
    /// <summary>A command named <paramref name="name"/> that runs <see cref="AgentBenchmark"/> and prints its JSON.</summary>
    public static Command Create(string name)
    {
        var board = new Option<string>("--board") { Description = "Board profile id or path", DefaultValueFactory = _ => "raspberry-pi-4" };
        var provider = new Option<string>("--provider") { Description = "cpu, or cuda to also run every variant on ONNX Runtime's CUDA provider and compare with the CPU", DefaultValueFactory = _ => "cpu" };
        provider.AcceptOnlyFromAmong("cpu", "cuda");
        var data = new Option<string>("--data") { Description = "Folder of the Fashion-MNIST idx files", DefaultValueFactory = _ => Model.Data.FashionMnist.DefaultDirectory };
        var checkpoints = new Option<string>("--checkpoints") { Description = "Folder of cached base checkpoints", DefaultValueFactory = _ => new AgentOptions().CheckpointDirectory };
        var runs = new Option<int>("--latency-runs") { Description = "Timed single-image runs per stage variant", DefaultValueFactory = _ => 50 };
        var json = new Option<bool>("--json") { Description = "Print one JSON object (the default; kept for symmetry with the other benchmarks)" };
        var command = new Command(name, "Per-variant ONNX Runtime latency of each stage (FP32/FP16/INT8/Pruned-INT8) and LoRA training samples per second")
        {
            board, provider, data, checkpoints, runs, json,
        };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var options = new AgentBenchmarkOptions
            {
                Agent = new AgentOptions
                {
                    DeviceId = "bench",
                    Board = parseResult.GetValue(board)!,
                    DataDirectory = parseResult.GetValue(data)!,
                    CheckpointDirectory = parseResult.GetValue(checkpoints)!,
                },
                ExecutionProvider = parseResult.GetValue(provider)!,
                LatencyRuns = parseResult.GetValue(runs),
            };
            AgentBenchmarkResult result = await AgentBenchmark.RunAsync(options, message => Console.Error.WriteLine(message), cancellationToken).ConfigureAwait(false);
            Console.Out.WriteLine(result.ToJson());
            return 0;
        });
        return command;
    }
}
