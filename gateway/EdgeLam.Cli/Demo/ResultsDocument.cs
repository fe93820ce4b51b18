using System.Text.Json;
using System.Text.Json.Nodes;
using EdgeLam.Gateway.Unlearning.Verification;

namespace EdgeLam.Cli.Demo;

/// <summary>
/// results.json in the shape of its contract (Demo/results.schema.json): schema version, profile, commit, fleet,
/// and one object per experiment keyed by strategy or method name. Fields beyond the contract are kept under the
/// same objects (settings, notes, plots, unlearning targets).
/// </summary>
public static class ResultsDocument
{
    public const int SchemaVersion = 1;

    /// <param name="fleet">Per device: board profile facts and the size of its shard.</param>
    /// <param name="dirichletAlpha">Concentration of the non-IID split of the training set over the fleet.</param>
    public static JsonObject Build(DemoResults results, string commit, IReadOnlyList<FleetDeviceFacts> fleet, double dirichletAlpha)
    {
        ArgumentNullException.ThrowIfNull(results);
        ArgumentNullException.ThrowIfNull(fleet);
        var document = new JsonObject
        {
            ["schema"] = SchemaVersion,
            ["profile"] = results.Settings.Profile,
            ["commit"] = commit,
            ["command"] = results.Command,
            ["machine"] = results.Machine,
            ["started_at"] = results.StartedAt.ToString("O", System.Globalization.CultureInfo.InvariantCulture),
            ["seconds"] = results.Seconds,
            ["fleet"] = new JsonArray([.. fleet.Select(d => (JsonNode)new JsonObject
            {
                ["id"] = d.Id, ["tier"] = d.Tier, ["board"] = d.Board, ["rank"] = d.Rank, ["precision"] = d.Precision, ["examples"] = d.Examples,
            })]),
            ["training"] = Training(results, dirichletAlpha),
        };
        if (results.Inference is InferenceExperimentResult inference)
            document["inference"] = Inference(inference);
        if (results.Unlearning is FederatedSimulationResult unlearning)
            document["unlearning"] = Unlearning(unlearning);
        document["plots"] = new JsonArray([.. results.Plots.Select(p => (JsonNode)JsonValue.Create(p))]);
        document["notes"] = new JsonArray([.. results.Notes.Select(n => (JsonNode)JsonValue.Create(n))]);
        document["settings"] = JsonSerializer.SerializeToNode(results.Settings, JsonOptions);
        return document;
    }

    private static JsonObject Training(DemoResults results, double dirichletAlpha)
    {
        var strategies = new JsonObject();
        foreach (var run in results.Training)
        {
            strategies[run.Strategy] = new JsonObject
            {
                ["accuracy"] = run.FinalAccuracy,
                ["accuracy_per_round"] = new JsonArray([.. run.Rounds.Select(r => (JsonNode)JsonValue.Create(r.Accuracy))]),
                ["uplink_bytes"] = run.UplinkBytes,
                ["downlink_bytes"] = run.DownlinkBytes,
                ["seconds"] = run.Seconds,
                ["failures"] = run.Rounds.Sum(r => r.Failures),
            };
        }
        return new JsonObject
        {
            ["rounds"] = results.Settings.Rounds,
            ["alpha"] = dirichletAlpha,
            ["base_accuracy"] = results.BaseAccuracy,
            ["evaluation_images"] = results.EvaluationImages,
            ["strategies"] = strategies,
            ["targets"] = new JsonArray([.. TrainingTargets.Evaluate(results.Training).Select(t => (JsonNode)new JsonObject
            {
                ["name"] = t.Name, ["requirement"] = t.Requirement, ["measured"] = t.Measured, ["limit"] = t.Limit, ["met"] = t.Met,
            })]),
        };
    }

    internal static JsonObject Inference(InferenceExperimentResult inference)
    {
        var strategies = new JsonObject();
        foreach (var run in inference.Runs)
        {
            strategies[run.Strategy] = new JsonObject
            {
                ["p50_ms"] = run.P50Milliseconds,
                ["p95_ms"] = run.P95Milliseconds,
                ["p99_ms"] = run.P99Milliseconds,
                ["throughput_rps"] = run.ThroughputPerSecond,
                ["qos_violation_rate"] = run.Requests == 0 ? 0 : run.QosViolations / (double)run.Requests,
                ["accuracy"] = run.Accuracy,
                ["peak_device_memory_bytes"] = run.PeakMemoryBytesPerDevice,
                ["energy_j_modelled"] = run.ModelledEnergyMillijoulesPerRequest * run.Requests / 1000,
                ["failures"] = run.Failures,
                ["layout"] = run.Layout,
                ["load_throughput_rps"] = run.LoadThroughputPerSecond,
                ["throughput_rps_modelled"] = run.ModelledCapacityPerSecond,
                ["stage_compute_ms"] = run.MeanStageComputeMilliseconds,
                ["stage_messaging_ms"] = run.MeanStageMessagingMilliseconds,
            };
        }
        return new JsonObject
        {
            ["requests"] = inference.Runs.Count == 0 ? 0 : inference.Runs.Max(r => r.Requests),
            ["load"] = inference.LoadFraction,
            ["arrival_rate_rps"] = inference.ArrivalRatePerSecond,
            ["wan_rtt_ms"] = inference.ModelledWanRoundTripMilliseconds,
            ["wan_mbps_modelled"] = inference.ModelledWanMegabitsPerSecond,
            ["minimum_accuracy"] = inference.MinimumAccuracy,
            ["maximum_latency_ms"] = inference.MaximumLatencyMilliseconds,
            ["strategies"] = strategies,
        };
    }

    private static JsonObject Unlearning(FederatedSimulationResult unlearning)
    {
        static JsonObject Quality(UnlearningMethodResult row) => new()
        {
            ["clean_accuracy"] = row.CleanAccuracy,
            ["backdoor_success"] = row.AttackSuccessRate,
            ["forgotten_accuracy"] = row.ForgottenDeviceAccuracy,
        };
        var methods = new JsonObject();
        foreach (var method in unlearning.Methods)
        {
            var row = Quality(method);
            row["seconds"] = method.WallSeconds;
            row["distance_to_retrain"] = method.RelativeDistanceToRetrained;
            methods[method.Method] = row;
        }
        return new JsonObject
        {
            ["target"] = unlearning.ForgottenDeviceId,
            ["strategy"] = unlearning.Strategy,
            ["rounds"] = unlearning.Rounds,
            ["retrain_seconds"] = unlearning.Retrained.WallSeconds,
            ["history_load_seconds"] = unlearning.HistoryLoadSeconds,
            ["retrain"] = Quality(unlearning.Retrained),
            ["before"] = Quality(unlearning.Original),
            ["methods"] = methods,
            ["default_method"] = unlearning.DefaultMethod,
            ["targets"] = new JsonArray([.. unlearning.Targets.Select(t => (JsonNode)new JsonObject
            {
                ["name"] = t.Name, ["requirement"] = t.Requirement, ["measured"] = t.Measured, ["limit"] = t.Limit, ["met"] = t.Met,
            })]),
        };
    }

    private static readonly JsonSerializerOptions JsonOptions = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };
}

/// <summary>What results.json states about one fleet device.</summary>
public sealed record FleetDeviceFacts(string Id, string Tier, string Board, int Rank, string Precision, int Examples);

/// <summary>Collects <see cref="FleetDeviceFacts"/> from the board profiles and the gateway's partition settings.</summary>
public static class FleetFacts
{
    /// <param name="shardCount">Shards of the Dirichlet split, as the gateway assigns them.</param>
    public static IReadOnlyList<FleetDeviceFacts> Collect(FleetSpec spec, string boardsDirectory, long partitionSeed, double dirichletAlpha, int shardCount)
    {
        ArgumentNullException.ThrowIfNull(spec);
        // The data view of an agent with default options: the same public slice and shards every emulated device trains on.
        var data = EdgeLam.Agent.Training.AgentData.For(new EdgeLam.Agent.AgentOptions());
        return [.. spec.Devices.Select(device =>
        {
            var board = EdgeLam.Boards.BoardProfileLoader.Load(FleetSpec.BoardPath(boardsDirectory, device));
            var tier = EdgeLam.Boards.BoardTierNames.Letter(board.Tier);
            return new FleetDeviceFacts(device.Id, tier, board.Id, board.Adaptation.MaxLoraRank.Value, tier == "L" ? "int8" : "fp16",
                data.Shard(partitionSeed, dirichletAlpha, device.Shard, shardCount).Count);
        })];
    }
}
