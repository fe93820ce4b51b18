using EdgeLam.Gateway.Training.LinearAlgebra;

namespace EdgeLam.Gateway.Training.Aggregation;

/// <summary>
/// Turns an SVD of an aggregated update into LoRA factors at a chosen rank. Singular values are split
/// evenly, B' = U_r·√(Σ_r/s) and A' = √(Σ_r/s)·V_rᵀ with s = alpha/r, so that the device's own
/// s·B'·A' is exactly the best rank-r approximation of the aggregate (Eckart–Young) and both factors
/// carry gradient signal in the next round.
/// </summary>
public static class RankRefactorization
{
    /// <summary>Singular values at or below this fraction of the largest are treated as zero (numerical rank).</summary>
    public const double RelativeRankTolerance = 1e-9;

    public static int NumericalRank(SingularValueDecomposition svd)
    {
        var values = svd.SingularValues;
        if (values.Length == 0 || values[0] <= 0)
            return 0;
        var rank = 0;
        while (rank < values.Length && values[rank] > values[0] * RelativeRankTolerance)
            rank++;
        return rank;
    }

    /// <summary>
    /// Factors at <paramref name="rank"/> with scale <paramref name="scale"/>. Directions beyond the
    /// aggregate's numerical rank get a fresh LoRA start (A random, B zero), which leaves the product unchanged.
    /// </summary>
    public static LoraFactors ToFactors(SingularValueDecomposition svd, int rank, float scale, Random freshDirections)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rank);
        if (!(scale > 0) || !float.IsFinite(scale))
            throw new ArgumentOutOfRangeException(nameof(scale), scale, "The LoRA scale must be positive and finite.");
        var outFeatures = svd.LeftVectors.Rows;
        var inFeatures = svd.RightVectors.Rows;
        var a = new float[rank * inFeatures];
        var b = new float[outFeatures * rank];
        var kept = Math.Min(rank, NumericalRank(svd));
        for (var j = 0; j < kept; j++)
        {
            var root = Math.Sqrt(svd.SingularValues[j] / scale);
            for (var o = 0; o < outFeatures; o++)
                b[(o * rank) + j] = (float)(svd.LeftVectors[o, j] * root);
            for (var i = 0; i < inFeatures; i++)
                a[(j * inFeatures) + i] = (float)(svd.RightVectors[i, j] * root);
        }
        AdapterInitialization.FillFreshRows(a, kept, rank, inFeatures, freshDirections);
        return new LoraFactors(rank, inFeatures, outFeatures, a, b, scale);
    }

    /// <summary>The exact aggregate as a scaled product (scale 1) at its numerical rank.</summary>
    public static LoraFactors ToExactProduct(SingularValueDecomposition svd) =>
        ToFactors(svd, NumericalRank(svd), 1f, new Random(0));

    /// <summary>SVD of the update that factors represent (stacked path with one term).</summary>
    public static SingularValueDecomposition Decompose(LoraFactors factors) =>
        ProductAggregation.StackedDecomposition([LowRankTerm.FromFactors(factors, 1.0)]);
}

/// <summary>Fresh LoRA factors as in Hu et al. 2021: A Kaiming-uniform, B zero, so ΔW starts at 0.</summary>
public static class AdapterInitialization
{
    public static LoraFactors Fresh(AdaptedProjection projection, int rank, float scale, Random random)
    {
        var a = new float[rank * projection.InFeatures];
        FillFreshRows(a, 0, rank, projection.InFeatures, random);
        return new LoraFactors(rank, projection.InFeatures, projection.OutFeatures, a, new float[projection.OutFeatures * rank], scale);
    }

    /// <summary>Rows [from, to) of A drawn from U(−1/√In, 1/√In), PyTorch's nn.Linear default for a=√5 Kaiming.</summary>
    internal static void FillFreshRows(float[] a, int fromRow, int toRow, int inFeatures, Random random)
    {
        var bound = 1.0 / Math.Sqrt(inFeatures);
        for (var row = fromRow; row < toRow; row++)
            for (var i = 0; i < inFeatures; i++)
                a[(row * inFeatures) + i] = (float)(((random.NextDouble() * 2) - 1) * bound);
    }
}

/// <summary>Reproducible random streams per (run seed, round, device, projection), independent of call order.</summary>
public static class DeterministicRandom
{
    public static Random For(int seed, int round, string deviceId, string projection)
    {
        // FNV-1a: stable across processes, unlike string.GetHashCode.
        var hash = 2166136261u;
        foreach (var part in new[] { seed.ToString(System.Globalization.CultureInfo.InvariantCulture), round.ToString(System.Globalization.CultureInfo.InvariantCulture), deviceId, projection })
        {
            foreach (var ch in part)
                hash = (hash ^ ch) * 16777619u;
            hash = (hash ^ 0x1F) * 16777619u;
        }
        return new Random(unchecked((int)hash));
    }
}
