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
}
