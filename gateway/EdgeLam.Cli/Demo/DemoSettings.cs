namespace EdgeLam.Cli.Demo;

/// <summary>How big the demo's experiments are; the defaults finish in minutes on a 2-core machine.</summary>
public sealed record DemoSettings
{
    public int Rounds { get; init; } = 5;
    public int LocalSteps { get; init; } = 15;
    public int BatchSize { get; init; } = 32;
    public double LearningRate { get; init; } = 3e-3;
    public TimeSpan RoundTimeout { get; init; } = TimeSpan.FromMinutes(3);
    public int EvaluationImages { get; init; } = 2000;
    public int Seed { get; init; } = 1;

    public static DemoSettings Quick { get; } = new() { Rounds = 2, LocalSteps = 5, EvaluationImages = 500 };
}
