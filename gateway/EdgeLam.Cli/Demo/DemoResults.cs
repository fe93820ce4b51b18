using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace EdgeLam.Cli.Demo;

/// <summary>Everything the demo measured; written as results.json and rendered as report.md.</summary>
public sealed record DemoResults
{
    public required DateTimeOffset StartedAt { get; init; }
    public required string Command { get; init; }
    public required string Machine { get; init; }
    public required DemoSettings Settings { get; init; }
    public required IReadOnlyList<FleetSpecDevice> Fleet { get; init; }
    public required string BaseModelId { get; init; }
    public required double BaseAccuracy { get; init; }
    public required int EvaluationImages { get; init; }
    public IReadOnlyList<StrategyRun> Training { get; init; } = [];
    public object? Inference { get; set; }
    public object? Unlearning { get; set; }
    [JsonIgnore]
    public string? UnlearningMarkdown { get; set; }
    public List<string> Plots { get; } = [];
    public List<string> Notes { get; } = [];
    public double Seconds { get; set; }

    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public string ToJson() => JsonSerializer.Serialize(this, JsonOptions);

    public string ToMarkdown()
    {
        var md = new StringBuilder();
        var c = CultureInfo.InvariantCulture;
        md.AppendLine("# EdgeLamIoT demo report").AppendLine();
        md.AppendLine(c, $"Produced by `{Command}` on {StartedAt:yyyy-MM-dd HH:mm} UTC ({Machine}), {Seconds:0} s in all. Every number below was measured in this run unless it is labelled *modelled*.").AppendLine();
        md.AppendLine("## Fleet").AppendLine();
        md.AppendLine("| device | board | shard |").AppendLine("|---|---|---|");
        foreach (var d in Fleet) md.AppendLine(c, $"| {d.Id} | {d.Board} | {d.Shard} |");
        md.AppendLine();
        md.AppendLine(c, $"Frozen base `{BaseModelId}`: {BaseAccuracy * 100:0.00}% on {EvaluationImages} images of the official test set.").AppendLine();
        if (Training.Count > 0)
        {
            md.AppendLine("## Experiment 1: federated fine-tuning").AppendLine();
            md.AppendLine(c, $"{Settings.Rounds} rounds per strategy, {Settings.LocalSteps} local steps of batch {Settings.BatchSize} per device and round, over MQTT; LoRA adapts {DemoSettings.DescribeProjections(Settings.AdaptedProjections, Settings.AdaptedProjectionsByTier)} (tier: projections it trains instead).").AppendLine();
            md.AppendLine("| strategy | final accuracy | Δ vs base | uplink bytes | downlink bytes | failures | seconds |").AppendLine("|---|---|---|---|---|---|---|");
            foreach (var run in Training)
                md.AppendLine(c, $"| {run.Strategy} | {run.FinalAccuracy * 100:0.00}% | {(run.FinalAccuracy - BaseAccuracy) * 100:+0.00;-0.00} pt | {run.UplinkBytes:N0} | {run.DownlinkBytes:N0} | {run.Rounds.Sum(r => r.Failures)} | {run.Seconds:0.0} |");
            md.AppendLine();
            md.AppendLine("Accuracy per round:").AppendLine();
            md.Append("| round |");
            foreach (var run in Training) md.Append(c, $" {run.Strategy} |");
            md.AppendLine().Append("|---|");
            foreach (var _ in Training) md.Append("---|");
            md.AppendLine();
            for (var r = 0; r < Settings.Rounds; r++)
            {
                md.Append(c, $"| {r + 1} |");
                foreach (var run in Training) md.Append(c, $" {(r < run.Rounds.Count ? run.Rounds[r].Accuracy * 100 : double.NaN):0.00}% |");
                md.AppendLine();
            }

            md.AppendLine().AppendLine("Targets:").AppendLine();
            foreach (var target in TrainingTargets.Evaluate(Training))
                md.AppendLine(c, $"- {target.Name}: {TrainingTargets.Describe(target)}");
            md.AppendLine();
        }

        if (Inference is InferenceExperimentResult inference)
        {
            md.AppendLine("## Experiment 2: inference over microservices").AppendLine();
            md.AppendLine(c, $"QoS: minimum accuracy {inference.MinimumAccuracy:P0}, maximum latency {inference.MaximumLatencyMilliseconds:0} ms. Capacity: completed requests per second with {Settings.InferenceConcurrency} requests in flight. Latency, QoS, accuracy, energy and memory: {Settings.InferenceRequests} Poisson arrivals at {inference.ArrivalRatePerSecond:0.0} requests/s, {inference.LoadFraction:P0} of the microservice capacity measured in this run. Energy is *modelled* (measured busy time × the board's busy power); the modelled capacity is the served requests over the busiest device's summed stage compute time in the load run (each board with a CPU of its own, broker and gateway free), beside the capacity measured on this host's shared cores; the cloud's WAN is *modelled* ({inference.ModelledWanRoundTripMilliseconds:0} ms round trip, {inference.ModelledWanMegabitsPerSecond:0} Mbit/s). Peak memory per device: {inference.MemoryMethod}.").AppendLine();
            md.AppendLine("| strategy | layout | capacity req/s | capacity req/s (modelled, a CPU per board) | p50 ms | p95 ms | p99 ms | QoS violations | accuracy | failures | energy mJ/request (modelled) | peak model bytes/device |").AppendLine("|---|---|---|---|---|---|---|---|---|---|---|---|");
            foreach (var run in inference.Runs)
                md.AppendLine(c, $"| {run.Strategy} | {run.Layout} | {run.ThroughputPerSecond:0.0} | {(run.ModelledCapacityPerSecond == 0 ? "n/a" : run.ModelledCapacityPerSecond.ToString("0", c))} | {run.P50Milliseconds:0.0} | {run.P95Milliseconds:0.0} | {run.P99Milliseconds:0.0} | {run.QosViolations}/{run.Requests} | {run.Accuracy:P1} | {run.Failures} | {run.ModelledEnergyMillijoulesPerRequest:0.00} | {(run.PeakMemoryBytesPerDevice == 0 ? "n/a" : run.PeakMemoryBytesPerDevice.ToString("N0", c))} |");
            md.AppendLine().AppendLine("Targets:").AppendLine();
            foreach (var target in inference.Targets)
                md.AppendLine(c, $"- {target.Name}: {target.Measured:0.###} (required {target.Required:0.###}), {(target.Met ? "met" : "**missed**")}: {target.Detail}");
            md.AppendLine().AppendLine("V sweep of drift-plus-penalty:").AppendLine();
            md.AppendLine("| V | mean penalty | mean backlog ms | mean latency ms | QoS met |").AppendLine("|---|---|---|---|---|");
            foreach (var p in inference.TradeoffSweep)
                md.AppendLine(c, $"| {p.Tradeoff} | {p.MeanPenalty:0.000} | {p.MeanBacklogMilliseconds:0.0} | {p.MeanLatencyMilliseconds:0.0} | {p.QosMetFraction:P0} |");
            md.AppendLine().AppendLine("Placements:").AppendLine();
            foreach (var placement in inference.Placements) md.AppendLine(c, $"- {placement}");
            md.AppendLine();
        }

        if (UnlearningMarkdown is not null)
        {
            md.AppendLine("## Experiment 3: federated unlearning of a backdoor device").AppendLine();
            md.AppendLine("The last device plants a backdoor (trigger patch relabelled to a target class). Each method removes it; a federation retrained from scratch without it is the reference.").AppendLine();
            md.AppendLine("```").AppendLine(UnlearningMarkdown).AppendLine("```").AppendLine();
        }

        foreach (var plot in Plots) md.AppendLine(c, $"![{Path.GetFileNameWithoutExtension(plot)}]({Path.GetFileName(plot)})").AppendLine();
        if (Notes.Count > 0)
        {
            md.AppendLine("## Notes").AppendLine();
            foreach (var note in Notes) md.AppendLine(c, $"- {note}");
        }

        return md.ToString();
    }
}
