using System.Numerics;
using System.Runtime.CompilerServices;
using EdgeLam.Gateway.Training;

namespace EdgeLam.Gateway.Unlearning.Methods;

/// <summary>
/// The column space U and row space V of what a forgotten device contributed to one projection's global change,
/// F = Σ_rounds (w_d/Σw)·(s·B·A − s'·B'·A') (its uploads minus the starts it was sent), and the projection
/// X ↦ (I − U·Uᵀ)·X·(I − V·Vᵀ) off both.
/// <para>
/// Why: a device trains LoRA factors from a start B_s·A_s, so its change is dB·A_s + B_s·dA + dB·dA. What the forgotten
/// device had put into the global before a round sits in the others' starts, and their changes react to it through
/// exactly those factors: dB·A_s lies in the start's row space, B_s·dA in its column space. Removing the forgotten
/// device's own changes leaves these reactions in place, and they over-correct the classes it trained (measured in
/// <c>Unlearning/README.md</c>); projecting the later rounds' changes off F's two spaces removes them.
/// </para>
/// <para>
/// F's column space is spanned by the B columns of its terms' rank-one components B[:, k]·A[k, :] and its row space by
/// their A rows (equal to them unless the products cancel), so U and V are kept as orthonormal bases of those, grown by
/// Gram–Schmidt as terms are added; a component that is zero (a fresh start's, whose B is zero) adds nothing. No
/// decomposition of F is needed.
/// </para>
/// </summary>
public sealed class ReactionProjection
{
    /// <summary>A factor column whose part outside the span is below this fraction of its norm is in the span already.</summary>
    public const double RelativeRankTolerance = 1e-6;

    private readonly List<double[]> _columns = []; // U, orthonormal Out-vectors
    private readonly List<double[]> _rows = [];    // V, orthonormal In-vectors

    /// <summary>Dimension of the column space projected off (0 before anything is added).</summary>
    public int ColumnRank => _columns.Count;

    /// <summary>Dimension of the row space projected off.</summary>
    public int RowRank => _rows.Count;

    /// <summary>Adds the spaces of one contribution's change: the columns of the B factors and the rows of the A factors of <paramref name="upload"/> and <paramref name="start"/>.</summary>
    public void Add(LoraFactors upload, LoraFactors start)
    {
        ArgumentNullException.ThrowIfNull(upload);
        ArgumentNullException.ThrowIfNull(start);
        foreach (var factors in (ReadOnlySpan<LoraFactors>)[upload, start])
        {
            for (var k = 0; k < factors.Rank; k++)
            {
                var column = new double[factors.OutFeatures];
                for (var o = 0; o < column.Length; o++)
                    column[o] = factors.B[(o * factors.Rank) + k];
                var row = new double[factors.InFeatures];
                for (var i = 0; i < row.Length; i++)
                    row[i] = factors.A[(k * factors.InFeatures) + i];
                if (!(Norm(column) > 0) || !(Norm(row) > 0))
                    continue; // a zero column of B (a fresh start's) or row of A: the component B[:, k]·A[k, :] adds nothing to F
                Extend(_columns, column);
                Extend(_rows, row);
            }
        }
    }

    /// <summary>Replaces <paramref name="change"/> by (I − U·Uᵀ)·X·(I − V·Vᵀ), in place; nothing while nothing was added.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // runs once per round and projection of an unlearning: compiled optimized from the first call
    public void Apply(DenseUpdate change)
    {
        ArgumentNullException.ThrowIfNull(change);
        int rows = change.OutFeatures, columns = change.InFeatures;
        if ((_columns.Count > 0 && _columns[0].Length != rows) || (_rows.Count > 0 && _rows[0].Length != columns))
            throw new ArgumentException($"A {rows}x{columns} change does not fit a projection of {_columns[0].Length}x{_rows[0].Length}.", nameof(change));
        var x = change.Values;
        // X −= u·(uᵀ·X) for each column u of U.
        var combination = new double[columns];
        foreach (var u in _columns)
        {
            Array.Clear(combination);
            for (var i = 0; i < rows; i++)
                AddScaled(combination, x.AsSpan(i * columns, columns), u[i]);
            for (var i = 0; i < rows; i++)
                AddScaled(x.AsSpan(i * columns, columns), combination, -u[i]);
        }
        // X −= (X·v)·vᵀ for each column v of V; the two projections commute.
        foreach (var v in _rows)
        {
            for (var i = 0; i < rows; i++)
            {
                var row = x.AsSpan(i * columns, columns);
                AddScaled(row, v, -Dot(row, v));
            }
        }
    }

    /// <summary>
    /// target += factor·source, in SIMD lanes. Not TensorPrimitives.MultiplyAdd/Dot, which the model core uses on long
    /// rows: on these 64- to 128-wide rows, called once per basis vector and row, they made the orthogonal method about
    /// 4x slower in `bench unlearning` (0.029 s against 0.006–0.010 s).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // SIMD code is only fast compiled optimized, so it is from the first call
    private static void AddScaled(Span<double> target, ReadOnlySpan<double> source, double factor)
    {
        var i = 0;
        if (Vector.IsHardwareAccelerated && target.Length >= Vector<double>.Count)
        {
            var scale = new Vector<double>(factor);
            for (; i <= target.Length - Vector<double>.Count; i += Vector<double>.Count)
                (new Vector<double>(target[i..]) + (scale * new Vector<double>(source[i..]))).CopyTo(target[i..]);
        }
        for (; i < target.Length; i++)
            target[i] += factor * source[i];
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // as AddScaled
    private static double Dot(ReadOnlySpan<double> x, ReadOnlySpan<double> y)
    {
        var i = 0;
        var sum = 0.0;
        if (Vector.IsHardwareAccelerated && x.Length >= Vector<double>.Count)
        {
            var lanes = Vector<double>.Zero;
            for (; i <= x.Length - Vector<double>.Count; i += Vector<double>.Count)
                lanes += new Vector<double>(x[i..]) * new Vector<double>(y[i..]);
            sum = Vector.Sum(lanes);
        }
        for (; i < x.Length; i++)
            sum += x[i] * y[i];
        return sum;
    }

    /// <summary>Adds to the orthonormal <paramref name="basis"/> the part of <paramref name="vector"/> outside it, if any (Gram–Schmidt twice, "twice is enough").</summary>
    private static void Extend(List<double[]> basis, double[] vector)
    {
        var norm = Norm(vector);
        if (!(norm > 0))
            return;
        for (var pass = 0; pass < 2; pass++)
        {
            foreach (var b in basis)
                AddScaled(vector, b, -Dot(vector, b));
        }
        var residual = Norm(vector);
        if (residual <= RelativeRankTolerance * norm)
            return;
        for (var i = 0; i < vector.Length; i++)
            vector[i] /= residual;
        basis.Add(vector);
    }

    private static double Norm(double[] vector) => Math.Sqrt(Dot(vector, vector));
}
