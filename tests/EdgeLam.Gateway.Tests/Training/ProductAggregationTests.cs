using CsCheck;
using EdgeLam.Gateway.Training.Aggregation;
using EdgeLam.Gateway.Training.LinearAlgebra;

namespace EdgeLam.Gateway.Tests.Training;

public class ProductAggregationTests
{
    private static readonly Gen<LowRankTerm[]> TermSets =
        from rows in Gen.Int[1, 20]
        from columns in Gen.Int[1, 20]
        from count in Gen.Int[1, 5]
        from terms in (
            from rank in Gen.Int[0, 8]
            from b in Gen.Double[-1, 1].Array[rows * rank]
            from a in Gen.Double[-1, 1].Array[rank * columns]
            from coefficient in Gen.Double[-2, 2]
            select new LowRankTerm(Matrix.FromRowMajor(rows, rank, b), Matrix.FromRowMajor(rank, columns, a), coefficient)).Array[count]
        select terms;

    [Fact]
    public void Stacked_factor_path_equals_dense_svd_path()
    {
        TermSets.Sample(terms =>
        {
            var dense = ProductAggregation.DenseSum(terms);
            var plain = ProductAggregation.DenseDecomposition(terms);
            var stacked = ProductAggregation.StackedDecomposition(terms);
            var norm = Math.Max(dense.FrobeniusNorm(), 1e-300);
            var largest = plain.SingularValues.DefaultIfEmpty(0).Max();

            // Same spectrum (the stacked path may carry fewer, all-zero, trailing values).
            for (var i = 0; i < plain.SingularValues.Length; i++)
            {
                var fromStacked = i < stacked.SingularValues.Length ? stacked.SingularValues[i] : 0;
                Assert.True(Math.Abs(plain.SingularValues[i] - fromStacked) <= 1e-4 * Math.Max(largest, 1e-12),
                    $"σ{i}: dense {plain.SingularValues[i]}, stacked {fromStacked}");
            }
            // Same matrix, and the same optimal truncations wherever the truncation is unique (a spectral gap).
            var full = stacked.Reconstruct(stacked.SingularValues.Length);
            Assert.True(dense.Subtract(full).FrobeniusNorm() <= 1e-4 * norm + 1e-12);
            for (var rank = 1; rank < stacked.SingularValues.Length; rank++)
            {
                if (stacked.SingularValues[rank - 1] - stacked.SingularValues[rank] < 1e-3 * largest)
                    continue;
                var difference = plain.Reconstruct(rank).Subtract(stacked.Reconstruct(rank)).FrobeniusNorm();
                Assert.True(difference <= 1e-4 * norm, $"rank {rank} truncations differ by {difference / norm:G3} relative");
            }
        }, iter: 150);
    }

    [Fact]
    public void Stacked_path_with_all_zero_rank_terms_is_the_zero_update()
    {
        var terms = new[] { new LowRankTerm(new Matrix(5, 0), new Matrix(0, 3), 1) };
        var svd = ProductAggregation.StackedDecomposition(terms);
        Assert.Empty(svd.SingularValues);
        Assert.Equal(0, RankRefactorization.NumericalRank(svd));
    }

    [Fact]
    public void Refactorized_factors_under_device_scale_give_the_best_rank_r_approximation()
    {
        var random = new Random(11);
        var terms = Enumerable.Range(0, 3).Select(k => new LowRankTerm(
            Matrix.FromRowMajor(12, 4, Enumerable.Range(0, 48).Select(_ => random.NextDouble() - 0.5).ToArray()),
            Matrix.FromRowMajor(4, 9, Enumerable.Range(0, 36).Select(_ => random.NextDouble() - 0.5).ToArray()),
            0.3 + k)).ToArray();
        var dense = ProductAggregation.DenseSum(terms);
        var reference = JacobiSvd.Decompose(dense);
        var svd = ProductAggregation.StackedDecomposition(terms);
        foreach (var rank in new[] { 1, 2, 4, 8 })
        {
            var factors = RankRefactorization.ToFactors(svd, rank, 16f / rank, new Random(rank));
            Assert.Equal(16f / rank, factors.Scale);
            var error = dense.Subtract(TrainingFixtures.Dense(factors)).FrobeniusNorm();
            Assert.Equal(reference.TruncationError(rank), error, 1e-4 * dense.FrobeniusNorm());
        }
    }

    [Fact]
    public void Ranks_above_the_aggregate_rank_get_fresh_directions_that_leave_the_product_unchanged()
    {
        var b = Matrix.FromRowMajor(6, 1, [1, 2, 3, 4, 5, 6]);
        var a = Matrix.FromRowMajor(1, 5, [1, -1, 0.5, 0, 2]);
        var svd = ProductAggregation.StackedDecomposition([new LowRankTerm(b, a, 1)]);
        var factors = RankRefactorization.ToFactors(svd, 4, 4f, new Random(3));

        TrainingFixtures.Dense(factors).Subtract(b.Multiply(a)).FrobeniusNorm().ShouldBeBelow(1e-5);
        for (var row = 1; row < 4; row++)
            Assert.Contains(factors.A.Skip(row * 5).Take(5), v => v != 0);
        for (var o = 0; o < 6; o++)
            for (var column = 1; column < 4; column++)
                Assert.Equal(0f, factors.B[(o * 4) + column]);
    }

    [Fact]
    public void Weighted_average_weights_by_example_count()
    {
        var result = WeightedAverage.Compute([new WeightedVector([1f, 10f], 300), new WeightedVector([5f, 2f], 100)]);
        Assert.Equal([2f, 8f], result);
        var error = Assert.Throws<ArgumentException>(() => WeightedAverage.Compute([new WeightedVector([1f], 1), new WeightedVector([1f, 2f], 1)]));
        Assert.Contains("lengths 1 and 2", error.Message);
    }
}

internal static class AssertionExtensions
{
    public static void ShouldBeBelow(this double value, double bound) =>
        Assert.True(value < bound, $"{value:G4} is not below {bound:G4}.");
}
