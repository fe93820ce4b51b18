using EdgeLam.Gateway.Training.LinearAlgebra;

namespace EdgeLam.Gateway.Training.Aggregation;

/// <summary>
/// Exact aggregation of LoRA updates as products, ΔW = Σ_k w_k·s_k·B_k·A_k / Σ_k w_k (FedFT-H, Alg. 1),
/// in two interchangeable forms: the plain dense sum, and an SVD of the sum computed from the stacked
/// factors without forming the dense Out×In matrix.
/// </summary>
public static class ProductAggregation
{
    /// <summary>Reference path: the dense Σ Coefficient·B·A.</summary>
    public static Matrix DenseSum(IReadOnlyList<LowRankTerm> terms)
    {
        RequireCompatible(terms, out var rows, out var columns);
        var sum = new Matrix(rows, columns);
        foreach (var term in terms)
            sum.AddScaled(term.B.Multiply(term.A), term.Coefficient);
        return sum;
    }

    /// <summary>Reference path: full Jacobi SVD of the dense sum.</summary>
    public static SingularValueDecomposition DenseDecomposition(IReadOnlyList<LowRankTerm> terms) =>
        JacobiSvd.Decompose(DenseSum(terms));

    /// <summary>
    /// SVD of Σ c_k·B_k·A_k from the stacked factors U = [√|c_k|·B_k] (Out×Σr) and V = [sign(c_k)√|c_k|·A_k] (Σr×In):
    /// with thin QRs U = Q_U·R_U and Vᵀ = Q_V·R_V, the sum is Q_U·(R_U·R_Vᵀ)·Q_Vᵀ, so only the small core
    /// R_U·R_Vᵀ needs an SVD (the standard route for SVD of a product, e.g. Halko et al. 2011, §5.1).
    /// </summary>
    public static SingularValueDecomposition StackedDecomposition(IReadOnlyList<LowRankTerm> terms)
    {
        RequireCompatible(terms, out var rows, out var columns);
        var leftBlocks = new List<Matrix>(terms.Count);
        var rightBlocks = new List<Matrix>(terms.Count);
        foreach (var term in terms)
        {
            if (term.B.Columns == 0)
                continue;
            var root = Math.Sqrt(Math.Abs(term.Coefficient));
            leftBlocks.Add(term.B.Scale(root));
            rightBlocks.Add(term.A.Scale(term.Coefficient < 0 ? -root : root));
        }
        if (leftBlocks.Count == 0)
            return ZeroDecomposition(rows, columns);

        var stackedLeft = Matrix.ConcatenateColumns(leftBlocks);
        var stackedRight = Matrix.ConcatenateRows(rightBlocks);
        var leftQr = HouseholderQr.Decompose(stackedLeft);
        var rightQr = HouseholderQr.Decompose(stackedRight.Transpose());
        var core = leftQr.R.Multiply(rightQr.R.Transpose());
        var coreSvd = JacobiSvd.Decompose(core);
        return new SingularValueDecomposition(
            leftQr.Q.Multiply(coreSvd.LeftVectors),
            coreSvd.SingularValues,
            rightQr.Q.Multiply(coreSvd.RightVectors));
    }

    private static SingularValueDecomposition ZeroDecomposition(int rows, int columns) =>
        new(new Matrix(rows, 0), [], new Matrix(columns, 0));

    private static void RequireCompatible(IReadOnlyList<LowRankTerm> terms, out int rows, out int columns)
    {
        if (terms.Count == 0)
            throw new ArgumentException("At least one low-rank term is needed.", nameof(terms));
        rows = terms[0].B.Rows;
        columns = terms[0].A.Columns;
        foreach (var term in terms)
        {
            if (term.B.Rows != rows || term.A.Columns != columns || term.B.Columns != term.A.Rows)
                throw new ArgumentException(
                    $"Term B {term.B.Rows}x{term.B.Columns}, A {term.A.Rows}x{term.A.Columns} does not fit a {rows}x{columns} sum.", nameof(terms));
            if (!double.IsFinite(term.Coefficient))
                throw new ArgumentException($"Coefficient {term.Coefficient} is not finite.", nameof(terms));
        }
    }
}
