using System.Diagnostics;
using EdgeLam.Gateway.Training.Aggregation;
using EdgeLam.Gateway.Training.LinearAlgebra;

namespace EdgeLam.Gateway.Training.Benchmarks;

/// <summary>One measured comparison of the two FedFT-H aggregation paths on random device factors.</summary>
/// <param name="DenseMilliseconds">Median time to form the dense ΔW and Jacobi-SVD it.</param>
/// <param name="StackedMilliseconds">Median time of the QR-of-stacked-factors path.</param>
/// <param name="MaximumRelativeSingularValueDifference">max_i |σ_i(dense) − σ_i(stacked)| / σ_1, the paths' agreement.</param>
public sealed record RefactorizationMeasurement(
    int OutFeatures,
    int InFeatures,
    IReadOnlyList<int> DeviceRanks,
    double DenseMilliseconds,
    double StackedMilliseconds,
    double MaximumRelativeSingularValueDifference)
{
    public double Speedup => DenseMilliseconds / StackedMilliseconds;

    public override string ToString() =>
        $"{OutFeatures}x{InFeatures}, ranks [{string.Join(",", DeviceRanks)}] (Σr={DeviceRanks.Sum()}): dense {DenseMilliseconds:F2} ms, "
        + $"stacked {StackedMilliseconds:F2} ms, speedup x{Speedup:F1}, max |Δσ|/σ1 {MaximumRelativeSingularValueDifference:E1}";
}

/// <summary>
/// Times exact product aggregation (ΔW = Σ w_k·s_k·B_k·A_k) followed by its SVD along the plain dense path
/// and along the stacked-factor path, for `edgelam bench`. Prints ratios, asserts nothing about time.
/// </summary>
public static class RefactorizationBenchmark
{
    public static RefactorizationMeasurement Measure(int outFeatures, int inFeatures, IReadOnlyList<int> deviceRanks, int repetitions = 5, int seed = 1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(repetitions, 1);
        var random = new Random(seed);
        var totalWeight = (double)deviceRanks.Count;
        var terms = deviceRanks.Select(rank => new LowRankTerm(
            RandomMatrix(outFeatures, rank, random),
            RandomMatrix(rank, inFeatures, random),
            16.0 / rank / totalWeight)).ToArray();

        SingularValueDecomposition? dense = null;
        SingularValueDecomposition? stacked = null;
        var denseTimes = Time(repetitions, () => dense = ProductAggregation.DenseDecomposition(terms));
        var stackedTimes = Time(repetitions, () => stacked = ProductAggregation.StackedDecomposition(terms));

        var largest = Math.Max(dense!.SingularValues[0], double.Epsilon);
        var difference = 0.0;
        for (var i = 0; i < dense.SingularValues.Length; i++)
        {
            var other = i < stacked!.SingularValues.Length ? stacked.SingularValues[i] : 0;
            difference = Math.Max(difference, Math.Abs(dense.SingularValues[i] - other) / largest);
        }
        return new RefactorizationMeasurement(outFeatures, inFeatures, deviceRanks, denseTimes, stackedTimes, difference);
    }

    /// <summary>The tiny ViT's MLP projection with a mixed fleet, and a large-model-sized projection.</summary>
    public static IReadOnlyList<RefactorizationMeasurement> Standard() =>
    [
        Measure(128, 64, [16, 8, 4]),
        Measure(128, 64, [16, 16, 8, 8, 8, 4, 4, 4, 4, 4]),
        Measure(256, 1024, [16, 8, 4], repetitions: 1),
    ];

    private static double Time(int repetitions, Action action)
    {
        // Warm-up long enough for tiered JIT to reach optimized code, so the ratio compares algorithms, not tiers.
        var warmUp = Stopwatch.StartNew();
        for (var i = 0; i < 50 && warmUp.Elapsed < TimeSpan.FromSeconds(2); i++)
            action();
        var samples = new double[repetitions];
        for (var i = 0; i < repetitions; i++)
        {
            var stopwatch = Stopwatch.StartNew();
            action();
            samples[i] = stopwatch.Elapsed.TotalMilliseconds;
        }
        Array.Sort(samples);
        return samples[repetitions / 2];
    }

    private static Matrix RandomMatrix(int rows, int columns, Random random)
    {
        var matrix = new Matrix(rows, columns);
        for (var i = 0; i < matrix.Values.Length; i++)
            matrix.Values[i] = random.NextDouble() - 0.5;
        return matrix;
    }
}
