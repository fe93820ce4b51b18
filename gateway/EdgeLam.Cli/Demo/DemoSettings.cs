namespace EdgeLam.Cli.Demo;

/// <summary>How big the demo's experiments are; the defaults finish in minutes on a 2-core machine.</summary>
public sealed record DemoSettings
{
    /// <summary>"full" or "quick", as results.json reports it.</summary>
    public string Profile { get; init; } = "full";

    /// <summary>Where the frozen base checkpoint is cached (pretrained once when missing).</summary>
    public string CheckpointDirectory { get; init; } = Path.Combine(".edgelam", "checkpoints");

    public int Rounds { get; init; } = 6;
    public int LocalSteps { get; init; } = 25;
    public int BatchSize { get; init; } = 32;
    public double LearningRate { get; init; } = 1e-3;
    /// <summary>
    /// Projections LoRA adapts on the Pi and Jetson (Training:AdaptedProjections): q and v of every block (Hu et al. 2021,
    /// §7.1); measured against all six in the training README.
    /// </summary>
    public IReadOnlyList<string> AdaptedProjections { get; init; } = ["q", "v"];

    /// <summary>
    /// Tiers that adapt other projections (Training:AdaptedProjectionsByTier): the ESP32s (L) train the last block's fc2,
    /// the one projection their firmware trains, so no Pi or Jetson uploads an adapter of it.
    /// </summary>
    public IReadOnlyDictionary<string, IReadOnlyList<string>> AdaptedProjectionsByTier { get; init; } =
        new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal) { ["L"] = ["blocks.3.fc2"] };

    /// <summary>The projection settings as one line: "q, v; L: blocks.3.fc2".</summary>
    public static string DescribeProjections(IReadOnlyList<string> projections, IReadOnlyDictionary<string, IReadOnlyList<string>> byTier) =>
        string.Join("; ", [projections.Count == 0 ? "all six of every block" : string.Join(", ", projections),
            .. byTier.OrderBy(e => e.Key, StringComparer.Ordinal).Select(e => $"{e.Key}: {string.Join(", ", e.Value)}")]);

    public TimeSpan RoundTimeout { get; init; } = TimeSpan.FromMinutes(3);
    public int EvaluationImages { get; init; } = 2000;
    public int Seed { get; init; } = 1;
    public int InferenceRequests { get; init; } = 300;
    public int InferenceConcurrency { get; init; } = 16;
    public double InferenceLoadFraction { get; init; } = 0.7;
    public int StageReplicas { get; init; } = 2;
    public double ModelledWanRoundTripMilliseconds { get; init; } = 50;
    public double ModelledWanMegabitsPerSecond { get; init; } = 20;
    public double MinimumAccuracy { get; init; } = 0.78;
    public double MaximumLatencyMilliseconds { get; init; } = 400;
    public IReadOnlyList<double> TradeoffValues { get; init; } = [0.1, 1, 10, 100];
    public IReadOnlyList<int> UnlearningDeviceRanks { get; init; } = [16, 8, 8, 4];
    public int UnlearningImagesPerDevice { get; init; } = 600;
    public int UnlearningRounds { get; init; } = 3;

    /// <summary>Local steps per device and round in the unlearning experiment: the gateway's default round (Training:LocalSteps), in both profiles.</summary>
    public int UnlearningLocalSteps { get; init; } = 20;

    public static DemoSettings Quick { get; } = new() { Profile = "quick", Rounds = 2, LocalSteps = 5, EvaluationImages = 500, InferenceRequests = 120, TradeoffValues = [1, 100], UnlearningImagesPerDevice = 200, UnlearningRounds = 2 };
}
