namespace EdgeLam.Gateway.Training.LinearAlgebra;

/// <summary>Thin QR factors: M = Q·R with Q (m×k) orthonormal columns, R (k×n) upper trapezoidal, k = min(m, n).</summary>
public sealed record ThinQr(Matrix Q, Matrix R);

/// <summary>
/// Thin QR by Householder reflections (Golub &amp; Van Loan, Matrix Computations, 4th ed., Alg. 5.2.1),
/// chosen over Gram–Schmidt because Q stays orthonormal to machine precision without reorthogonalization.
/// </summary>
public static class HouseholderQr
{
    public static ThinQr Decompose(Matrix matrix)
    {
        var m = matrix.Rows;
        var n = matrix.Columns;
        var k = Math.Min(m, n);
        var work = matrix.Clone();
        var reflectors = new double[k][];

        for (var j = 0; j < k; j++)
        {
            // Reflector v maps column j below the diagonal onto a multiple of e_j.
            var norm = 0.0;
            for (var i = j; i < m; i++)
                norm += work[i, j] * work[i, j];
            norm = Math.Sqrt(norm);
            var v = new double[m - j];
            if (norm == 0)
            {
                reflectors[j] = v;
                continue;
            }
            var alpha = work[j, j] >= 0 ? -norm : norm;
            for (var i = j; i < m; i++)
                v[i - j] = work[i, j];
            v[0] -= alpha;
            var vNormSquared = 0.0;
            foreach (var x in v)
                vNormSquared += x * x;
            if (vNormSquared == 0)
            {
                reflectors[j] = new double[m - j];
                continue;
            }
            var inverseNorm = 1 / Math.Sqrt(vNormSquared);
            for (var i = 0; i < v.Length; i++)
                v[i] *= inverseNorm;
            reflectors[j] = v;
            ApplyReflector(work, v, j, j);
        }

        var r = new Matrix(k, n);
        for (var i = 0; i < k; i++)
            for (var j = i; j < n; j++)
                r[i, j] = work[i, j];

        // Q = H_0 · H_1 ⋯ H_{k-1} · [I_k; 0], built by applying the reflectors backwards.
        var q = new Matrix(m, k);
        for (var i = 0; i < k; i++)
            q[i, i] = 1;
        for (var j = k - 1; j >= 0; j--)
            ApplyReflector(q, reflectors[j], j, 0);
        return new ThinQr(q, r);
    }

    /// <summary>Applies (I − 2vvᵀ) to rows firstRow.. of the columns firstColumn.. of the matrix.</summary>
    private static void ApplyReflector(Matrix target, double[] v, int firstRow, int firstColumn)
    {
        for (var c = firstColumn; c < target.Columns; c++)
        {
            var dot = 0.0;
            for (var i = 0; i < v.Length; i++)
                dot += v[i] * target[firstRow + i, c];
            if (dot == 0)
                continue;
            dot *= 2;
            for (var i = 0; i < v.Length; i++)
                target[firstRow + i, c] -= dot * v[i];
        }
    }
}
