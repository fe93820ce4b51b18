using System.Text.Json;
using EdgeLam.Cli.Demo;

namespace EdgeLam.Cli.Tests;

/// <summary>
/// A small fleet (one Jetson agent, one Pi agent, one ESP32 emulator) through the demo's own code path, with a
/// round and a handful of requests, and its results.json checked against the committed schema.
/// </summary>
public sealed class DemoResultsSchemaTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "edgelam-demo-test-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try { Directory.Delete(_directory, recursive: true); } catch (IOException) { }
    }

    private static JsonSchemaValidator Schema() => new(JsonDocument.Parse(File.ReadAllText(RepositoryRoot.ResultsSchema)).RootElement);

    [Fact]
    public async Task A_small_fleet_through_the_demo_writes_results_that_match_the_schema()
    {
        Directory.CreateDirectory(_directory);
        var fleetPath = Path.Combine(_directory, "fleet.json");
        File.WriteAllText(fleetPath, """
            { "description": "one device per tier", "devices": [
              { "id": "jetson-1", "board": "jetson-orin-nano", "shard": 0 },
              { "id": "pi-1", "board": "raspberry-pi-4", "shard": 1 },
              { "id": "esp32-1", "board": "esp32-wrover", "shard": 2 } ] }
            """);
        var settings = DemoSettings.Quick with
        {
            CheckpointDirectory = RepositoryRoot.CheckpointCache,
            Rounds = 1,
            LocalSteps = 2,
            EvaluationImages = 200,
            InferenceRequests = 8,
            InferenceConcurrency = 4,
            TradeoffValues = [10],
            UnlearningDeviceRanks = [8, 4],
            UnlearningImagesPerDevice = 100,
            UnlearningRounds = 1,
            UnlearningLocalSteps = 2,
        };
        var output = Path.Combine(_directory, "out");

        var exitCode = await DemoRunner.RunAsync(output, fleetPath, settings, "test", CancellationToken.None);

        Assert.Equal(0, exitCode);
        Assert.True(File.Exists(Path.Combine(output, "report.md")));
        using var results = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "results.json")));
        var errors = Schema().Validate(results.RootElement);
        Assert.True(errors.Count == 0, string.Join(Environment.NewLine, errors));
        Assert.Equal(["jetson-1", "pi-1", "esp32-1"], results.RootElement.GetProperty("fleet").EnumerateArray().Select(d => d.GetProperty("id").GetString()));
        Assert.Equal("L", results.RootElement.GetProperty("fleet")[2].GetProperty("tier").GetString());
        foreach (var plot in results.RootElement.GetProperty("plots").EnumerateArray())
            Assert.True(File.Exists(Path.Combine(output, plot.GetString()!)), $"plot {plot} is listed but not written");
    }

    [Fact]
    public void The_schema_rejects_results_that_break_the_contract()
    {
        using var broken = JsonDocument.Parse("""
            { "schema": 1, "profile": "fast", "commit": "abc",
              "fleet": [ { "id": "pi-1", "tier": "M", "board": "raspberry-pi-4", "rank": 8, "precision": "fp16" } ],
              "training": { "rounds": 1, "alpha": 0.5, "base_accuracy": 1.5, "strategies": { "fedft_h": { "accuracy": 0.8, "accuracy_per_round": [0.8], "uplink_bytes": 10, "downlink_bytes": 10, "seconds": 1 } } },
              "inference": { "requests": 5, "wan_rtt_ms": 40, "strategies": { "teleport": { } } } }
            """);

        var errors = Schema().Validate(broken.RootElement);

        Assert.Contains(errors, e => e.StartsWith("$.profile:", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("missing required 'examples'", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("$.training.base_accuracy:", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("$.inference.strategies.teleport (name):", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("missing required 'unlearning'", StringComparison.Ordinal));
    }
}
