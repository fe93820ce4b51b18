using CsCheck;
using EdgeLam.Gateway.Training.LinearAlgebra;

namespace EdgeLam.Gateway.Tests.Training;

public class LinearAlgebraTests
{
    internal static readonly Gen<Matrix> Matrices =
        from rows in Gen.Int[1, 12]
        from columns in Gen.Int[1, 12]
        from values in Gen.Double[-3, 3].Array[rows * columns]
        select Matrix.FromRowMajor(rows, columns, values);

    [Fact]
    public void Householder_qr_reconstructs_with_orthonormal_q_and_triangular_r()
    {
        Matrices.Sample(matrix =>
        {
            var (q, r) = HouseholderQr.Decompose(matrix);
            var k = Math.Min(matrix.Rows, matrix.Columns);
            Assert.Equal((matrix.Rows, k), (q.Rows, q.Columns));
            Assert.Equal((k, matrix.Columns), (r.Rows, r.Columns));
            AssertClose(matrix, q.Multiply(r), 1e-10);
            AssertClose(Matrix.Identity(k), q.Transpose().Multiply(q), 1e-12);
            for (var i = 0; i < r.Rows; i++)
                for (var j = 0; j < Math.Min(i, r.Columns); j++)
                    Assert.Equal(0, r[i, j]);
        }, iter: 200);
    }

    [Fact]
    public void Jacobi_svd_reconstructs_random_matrices_with_sorted_values_and_orthonormal_vectors()
    {
        Matrices.Sample(matrix =>
        {
            var svd = JacobiSvd.Decompose(matrix);
            var k = Math.Min(matrix.Rows, matrix.Columns);
            Assert.Equal(k, svd.SingularValues.Length);
            AssertClose(matrix, svd.Reconstruct(k), 1e-10);
            AssertClose(Matrix.Identity(k), svd.LeftVectors.Transpose().Multiply(svd.LeftVectors), 1e-10);
            AssertClose(Matrix.Identity(k), svd.RightVectors.Transpose().Multiply(svd.RightVectors), 1e-10);
            for (var i = 1; i < k; i++)
                Assert.True(svd.SingularValues[i - 1] >= svd.SingularValues[i]);
            Assert.True(svd.SingularValues.All(s => s >= 0));
        }, iter: 200);
    }

    [Fact]
    public void Jacobi_svd_of_a_rank_deficient_matrix_finds_the_rank_and_keeps_left_vectors_orthonormal()
    {
        // 6x5 of rank 2: outer products of two known vector pairs.
        var left = Matrix.FromRowMajor(6, 2, [1, 0, 2, 1, 0, 3, -1, 1, 4, 0, 1, 2]);
        var right = Matrix.FromRowMajor(2, 5, [1, 2, 0, -1, 3, 0, 1, 1, 2, -2]);
        var svd = JacobiSvd.Decompose(left.Multiply(right));
        Assert.True(svd.SingularValues[1] > 1);
        Assert.True(svd.SingularValues[2] < 1e-12 * svd.SingularValues[0]);
        AssertClose(Matrix.Identity(5), svd.LeftVectors.Transpose().Multiply(svd.LeftVectors), 1e-10);
    }

    [Fact]
    public void Truncated_svd_error_is_the_eckart_young_optimum()
    {
        var cases = from matrix in Matrices
                    from rank in Gen.Int[0, 12]
                    select (matrix, rank);
        cases.Sample((matrix, rank) =>
        {
            var svd = JacobiSvd.Decompose(matrix);
            var error = matrix.Subtract(svd.Reconstruct(rank)).FrobeniusNorm();
            var discarded = Math.Sqrt(svd.SingularValues.Skip(rank).Sum(s => s * s));
            Assert.Equal(discarded, error, 1e-9);
            Assert.Equal(discarded, svd.TruncationError(rank), 1e-12);
        }, iter: 200);
    }

    [Fact]
    public void Truncated_svd_beats_other_rank_r_approximations()
    {
        var random = new Random(7);
        var matrix = Matrix.FromRowMajor(9, 7, Enumerable.Range(0, 63).Select(_ => random.NextDouble() - 0.5).ToArray());
        var svd = JacobiSvd.Decompose(matrix);
        const int rank = 3;
        var optimal = svd.TruncationError(rank);
        for (var trial = 0; trial < 50; trial++)
        {
            // Perturbing the optimal factors never lowers the error (Eckart–Young).
            var u = svd.LeftVectors.LeadingColumns(rank).Clone();
            for (var i = 0; i < u.Values.Length; i++)
                u.Values[i] += 0.05 * (random.NextDouble() - 0.5);
            // The best approximation with column space span(U) is Q·Qᵀ·M.
            var (q, _) = HouseholderQr.Decompose(u);
            var projection = q.Multiply(q.Transpose().Multiply(matrix));
            Assert.True(matrix.Subtract(projection).FrobeniusNorm() >= optimal - 1e-12);
        }
    }

    internal static void AssertClose(Matrix expected, Matrix actual, double tolerance)
    {
        Assert.Equal((expected.Rows, expected.Columns), (actual.Rows, actual.Columns));
        var scale = Math.Max(1, expected.FrobeniusNorm());
        var difference = expected.Subtract(actual).FrobeniusNorm();
        Assert.True(difference <= tolerance * scale, $"Matrices differ by {difference:G3} (tolerance {tolerance * scale:G3}).");
    }
}
