using System.Text.Json.Nodes;
using EdgeLam.Agent.Benchmarks;
using EdgeLam.Agent.Tests.Broker;

namespace EdgeLam.Agent.Tests.Benchmarks;

public sealed class AgentBenchmarkTests
{
    [Fact]
    public async Task Benchmark_times_every_stage_in_four_variants_and_reports_lora_training_rate_as_json()
    {
        var agent = new AgentOptions();
        AgentTestBed.TinyOptions(agent);
        var result = await AgentBenchmark.RunAsync(new AgentBenchmarkOptions { Agent = agent, LatencyRuns = 3, LoraRank = 4, LoraSteps = 5, LoraBatchSize = 16 });

        // embed, block0, block1, head of the tiny model, each as fp32, fp16, int8 and pruned_int8.
        Assert.Equal(16, result.Latencies.Count);
        Assert.All(result.Latencies, latency => Assert.True(latency.MedianMilliseconds > 0 && latency.ModelBytes > 0));
        Assert.Equal(["fp32", "fp16", "int8", "pruned_int8"], result.Latencies.Where(l => l.Stage == "block0").Select(l => l.Variant));
        Assert.True(result.LoraTrainingSamplesPerSecond > 0);
        var json = JsonNode.Parse(result.ToJson())!;
        Assert.Equal(16, json["latencies"]!.AsArray().Count);
        Assert.Equal(result.BaseModelId, (string)json["baseModelId"]!);
    }

    [Fact]
    public async Task Asking_for_cuda_on_the_cpu_build_of_onnx_runtime_says_why_and_measures_on_the_cpu()
    {
        var agent = new AgentOptions();
        AgentTestBed.TinyOptions(agent);
        var result = await AgentBenchmark.RunAsync(new AgentBenchmarkOptions { Agent = agent, LatencyRuns = 2, LoraRank = 4, LoraSteps = 2, LoraBatchSize = 8, ExecutionProvider = "cuda" });

        Assert.Equal("cuda", result.RequestedExecutionProvider);
        Assert.Contains("Cuda", result.CudaUnavailableReason!, StringComparison.OrdinalIgnoreCase);
        Assert.All(result.Latencies, latency => Assert.Equal("cpu", latency.ExecutionProvider));
    }

    [Fact]
    public async Task An_unknown_execution_provider_is_refused_by_name()
    {
        var agent = new AgentOptions();
        AgentTestBed.TinyOptions(agent);
        var error = await Assert.ThrowsAsync<ArgumentException>(() => AgentBenchmark.RunAsync(new AgentBenchmarkOptions { Agent = agent, ExecutionProvider = "tpu" }));
        Assert.Contains("'tpu'", error.Message, StringComparison.Ordinal);
    }
}
