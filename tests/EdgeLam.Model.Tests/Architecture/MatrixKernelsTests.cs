using EdgeLam.Model.Architecture;
using static EdgeLam.Model.Tests.Architecture.GradientCheck;

namespace EdgeLam.Model.Tests.Architecture;

public sealed class MatrixKernelsTests
{
    [Theory]
    [InlineData(1, 1, 1)]
    [InlineData(7, 13, 37)]
    [InlineData(16, 64, 64)]
    [InlineData(5, 3, 17)]
    public void Blocked_products_equal_the_plain_triple_loop(int m, int k, int n)
    {
        float[] a = RandomArray(m * k, 1), b = RandomArray(k * n, 2), bTransposed = new float[n * k];
        MatrixKernels.Transpose(b, k, n, bTransposed);
        var expected = new double[m * n];
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                for (int p = 0; p < k; p++)
                    expected[(i * n) + j] += (double)a[(i * k) + p] * b[(p * n) + j];
            }
        }

        var plain = new float[m * n];
        MatrixKernels.Multiply(a, b, plain, m, k, n);
        var transposedB = new float[m * n];
        MatrixKernels.MultiplyTransposedB(a, bTransposed, transposedB, m, k, n);
        var aTransposed = new float[k * m];
        MatrixKernels.Transpose(a, m, k, aTransposed);
        var transposedA = new float[m * n];
        MatrixKernels.MultiplyTransposedA(aTransposed, b, transposedA, k, m, n);
        var accumulated = Enumerable.Repeat(1f, m * n).ToArray();
        MatrixKernels.Multiply(a, b, accumulated, m, k, n, accumulate: true);

        for (int i = 0; i < m * n; i++)
        {
            Assert.Equal(expected[i], plain[i], 1e-4 * (1 + Math.Abs(expected[i])));
            Assert.Equal(plain[i], transposedB[i]);
            Assert.Equal(plain[i], transposedA[i]);
            Assert.Equal(expected[i] + 1, accumulated[i], 1e-4 * (1 + Math.Abs(expected[i])));
        }
    }
}
