using EdgeLam.Contracts.Messages;
using EdgeLam.Gateway.Training;
using EdgeLam.Gateway.Training.LinearAlgebra;
using EdgeLam.Model.Architecture;

namespace EdgeLam.Gateway.Tests.Training;

/// <summary>A small fleet and model layout shared by the strategy tests.</summary>
internal static class TrainingFixtures
{
    public const float Alpha = 16f;

    public static AdapterLayout Layout { get; } = AdapterLayout.ForTinyVit(TinyVitConfig.Tiny);

    /// <summary>Random test factors are far larger than trained ones, so the norm bound is raised out of their way.</summary>
    public static RoundContext Context(GlobalModelState? global = null, int round = 1) =>
        new(round, global ?? GlobalModelState.Initial, Layout, TrainingHyperparameters.Default with { LoraAlpha = Alpha, MaximumUpdateNorm = 1e6 });

    public static FleetMember Jetson(string id = "jetson-1", int examples = 600) =>
        new(id, DeviceTier.H, 16, [Precision.Fp32, Precision.Fp16, Precision.Int8], null, examples);

    public static FleetMember RaspberryPi(string id = "pi-1", int examples = 400) =>
        new(id, DeviceTier.M, 8, [Precision.Fp32, Precision.Fp16, Precision.Int8], null, examples);

    public static FleetMember Esp32(string id = "esp32-1", int examples = 200) =>
        new(id, DeviceTier.L, 4, [Precision.Int8], [0], examples);

    public static LoraFactors RandomFactors(AdaptedProjection projection, int rank, Random random, float alpha = Alpha) => new(
        rank, projection.InFeatures, projection.OutFeatures,
        Enumerable.Range(0, rank * projection.InFeatures).Select(_ => (float)(random.NextDouble() - 0.5)).ToArray(),
        Enumerable.Range(0, projection.OutFeatures * rank).Select(_ => (float)(random.NextDouble() - 0.5)).ToArray(),
        alpha / rank);

    /// <summary>A reply whose adapters are random factors at the rank and on the layers given.</summary>
    public static TrainingReply RandomReply(string deviceId, int examples, int rank, IReadOnlyCollection<int>? layers, int seed)
    {
        var random = new Random(seed);
        var adapters = Layout.ProjectionsOfLayers(layers).ToDictionary(p => p.Name, p => RandomFactors(p, rank, random));
        return new TrainingReply(deviceId, examples, ModelParameters.FromAdapters(adapters), 1000);
    }

    /// <summary>Σ w_k·s_k·B_k·A_k / Σ w_k computed straight from the definition, in double.</summary>
    public static Matrix ExpectedProductMean(string projection, params TrainingReply[] replies)
    {
        Matrix? sum = null;
        var total = 0.0;
        foreach (var reply in replies)
        {
            if (!reply.Trained.Adapters.TryGetValue(projection, out var f))
                continue;
            sum ??= new Matrix(f.OutFeatures, f.InFeatures);
            for (var o = 0; o < f.OutFeatures; o++)
                for (var i = 0; i < f.InFeatures; i++)
                    for (var k = 0; k < f.Rank; k++)
                        sum[o, i] += reply.ExampleCount * (double)f.Scale * f.B[(o * f.Rank) + k] * f.A[(k * f.InFeatures) + i];
            total += reply.ExampleCount;
        }
        return sum!.Scale(1 / total);
    }

    public static Matrix Dense(LoraFactors factors) =>
        Matrix.FromRowMajor(factors.OutFeatures, factors.InFeatures, factors.ToDenseDelta());

    public static double RelativeDifference(Matrix expected, Matrix actual) =>
        expected.Subtract(actual).FrobeniusNorm() / expected.FrobeniusNorm();
}
