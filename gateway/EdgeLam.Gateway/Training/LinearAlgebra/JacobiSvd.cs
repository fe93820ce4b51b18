namespace EdgeLam.Gateway.Training.LinearAlgebra;

/// <summary>
/// Thin singular value decomposition M = U·diag(σ)·Vᵀ with U (m×k), σ (k, descending, non-negative),
/// V (n×k), k = min(m, n); U and V have orthonormal columns.
/// </summary>
public sealed record SingularValueDecomposition(Matrix LeftVectors, double[] SingularValues, Matrix RightVectors)
{
    /// <summary>Best rank-r approximation error in the Frobenius norm: sqrt of the discarded σ² (Eckart–Young).</summary>
    public double TruncationError(int rank)
    {
        var sum = 0.0;
        for (var i = rank; i < SingularValues.Length; i++)
            sum += SingularValues[i] * SingularValues[i];
        return Math.Sqrt(sum);
    }

    /// <summary>U[:, :r]·diag(σ[:r])·V[:, :r]ᵀ.</summary>
    public Matrix Reconstruct(int rank)
    {
        rank = Math.Min(rank, SingularValues.Length);
        var scaledLeft = new Matrix(LeftVectors.Rows, rank);
        for (var i = 0; i < LeftVectors.Rows; i++)
            for (var j = 0; j < rank; j++)
                scaledLeft[i, j] = LeftVectors[i, j] * SingularValues[j];
        return scaledLeft.Multiply(RightVectors.LeadingColumns(rank).Transpose());
    }
}

/// <summary>
/// One-sided Jacobi SVD (Hestenes 1958; Demmel &amp; Veselić 1992): rotate column pairs until all are
/// orthogonal. Slower than Golub–Kahan for large matrices but simple, and accurate for the small
/// cores (Σ ranks × Σ ranks) that rank refactorization feeds it.
/// </summary>
public static class JacobiSvd
{
    private const int MaximumSweeps = 60;

    /// <summary>IEEE binary64 unit roundoff (2⁻⁵²); not <see cref="double.Epsilon"/>, which is the smallest subnormal.</summary>
    private const double MachineEpsilon = 2.220446049250313e-16;

    public static SingularValueDecomposition Decompose(Matrix matrix)
    {
        if (matrix.Rows < matrix.Columns)
        {
            var transposed = Decompose(matrix.Transpose());
            return new SingularValueDecomposition(transposed.RightVectors, transposed.SingularValues, transposed.LeftVectors);
        }
        foreach (var value in matrix.Values)
            if (!double.IsFinite(value))
                throw new ArgumentException("Cannot decompose a matrix that holds NaN or infinity.", nameof(matrix));

        var m = matrix.Rows;
        var n = matrix.Columns;
        // Work column-major so a column is a contiguous span.
        var columns = new double[n][];
        for (var j = 0; j < n; j++)
        {
            columns[j] = new double[m];
            for (var i = 0; i < m; i++)
                columns[j][i] = matrix[i, j];
        }
        var right = new double[n][];
        for (var j = 0; j < n; j++)
        {
            right[j] = new double[n];
            right[j][j] = 1;
        }

        // Columns count as orthogonal once |cos| is below the rounding level of an m-term dot product
        // (Demmel & Veselić 1992); a stricter test never passes and only burns sweeps.
        var tolerance = Math.Max(m, 1) * MachineEpsilon;
        // Columns of a rank-deficient input shrink to rounding noise; rotating noise against signal only
        // re-pollutes it and would never converge, so columns below this squared norm are left alone.
        var frobeniusSquared = matrix.Values.Sum(v => v * v);
        var negligibleSquared = 1e-28 * frobeniusSquared;
        for (var sweep = 0; sweep < MaximumSweeps; sweep++)
        {
            var rotated = false;
            for (var p = 0; p < n - 1; p++)
            {
                for (var q = p + 1; q < n; q++)
                {
                    var alpha = Dot(columns[p], columns[p]);
                    var beta = Dot(columns[q], columns[q]);
                    var gamma = Dot(columns[p], columns[q]);
                    if (gamma == 0 || alpha <= negligibleSquared || beta <= negligibleSquared
                        || Math.Abs(gamma) <= tolerance * Math.Sqrt(alpha * beta))
                        continue;
                    rotated = true;
                    // Rotation angle that zeroes the (p, q) entry of the Gram matrix (Rutishauser's formula).
                    var zeta = (beta - alpha) / (2 * gamma);
                    var t = Math.Sign(zeta) / (Math.Abs(zeta) + Math.Sqrt(1 + (zeta * zeta)));
                    if (zeta == 0)
                        t = 1;
                    var c = 1 / Math.Sqrt(1 + (t * t));
                    var s = c * t;
                    Rotate(columns[p], columns[q], c, s);
                    Rotate(right[p], right[q], c, s);
                }
            }
            if (!rotated)
                break;
        }

        var singularValues = new double[n];
        for (var j = 0; j < n; j++)
            singularValues[j] = Math.Sqrt(Dot(columns[j], columns[j]));
        var order = Enumerable.Range(0, n).OrderByDescending(j => singularValues[j]).ToArray();

        var left = new Matrix(m, n);
        var rightVectors = new Matrix(n, n);
        var sorted = new double[n];
        var largest = n > 0 ? singularValues[order[0]] : 0;
        var missingLeft = new List<int>();
        for (var target = 0; target < n; target++)
        {
            var source = order[target];
            sorted[target] = singularValues[source];
            for (var i = 0; i < n; i++)
                rightVectors[i, target] = right[source][i];
            if (sorted[target] > largest * 1e-14 && sorted[target] > 0)
            {
                for (var i = 0; i < m; i++)
                    left[i, target] = columns[source][i] / sorted[target];
            }
            else
            {
                missingLeft.Add(target);
            }
        }
        CompleteOrthonormalColumns(left, missingLeft);
        return new SingularValueDecomposition(left, sorted, rightVectors);
    }

    /// <summary>
    /// Fills the listed (null-space) columns with unit vectors orthogonal to all others, so U stays
    /// orthonormal even for rank-deficient input (Gram–Schmidt twice, "twice is enough", Giraud et al. 2005).
    /// </summary>
    private static void CompleteOrthonormalColumns(Matrix left, List<int> missing)
    {
        var m = left.Rows;
        var candidate = 0;
        foreach (var column in missing)
        {
            while (candidate < m)
            {
                var v = new double[m];
                v[candidate++] = 1;
                for (var pass = 0; pass < 2; pass++)
                {
                    for (var other = 0; other < left.Columns; other++)
                    {
                        if (other == column)
                            continue;
                        var dot = 0.0;
                        for (var i = 0; i < m; i++)
                            dot += left[i, other] * v[i];
                        for (var i = 0; i < m; i++)
                            v[i] -= dot * left[i, other];
                    }
                }
                var norm = Math.Sqrt(Dot(v, v));
                if (norm < 1e-8)
                    continue;
                for (var i = 0; i < m; i++)
                    left[i, column] = v[i] / norm;
                break;
            }
        }
    }

    private static double Dot(double[] x, double[] y)
    {
        var sum = 0.0;
        for (var i = 0; i < x.Length; i++)
            sum += x[i] * y[i];
        return sum;
    }

    private static void Rotate(double[] p, double[] q, double c, double s)
    {
        for (var i = 0; i < p.Length; i++)
        {
            var x = p[i];
            var y = q[i];
            p[i] = (c * x) - (s * y);
            q[i] = (s * x) + (c * y);
        }
    }
}
