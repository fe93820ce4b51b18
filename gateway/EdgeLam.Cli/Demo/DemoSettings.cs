namespace EdgeLam.Cli.Demo;

/// <summary>How big the demo's experiments are; the defaults finish in minutes on a 2-core machine.</summary>
public sealed record DemoSettings
{
    public int Rounds { get; init; } = 6;
    public int LocalSteps { get; init; } = 25;
    public int BatchSize { get; init; } = 32;
    public double LearningRate { get; init; } = 1e-3;
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

    public static DemoSettings Quick { get; } = new() { Rounds = 2, LocalSteps = 5, EvaluationImages = 500, InferenceRequests = 120, TradeoffValues = [1, 100], UnlearningImagesPerDevice = 200, UnlearningRounds = 2 };
}
