namespace EdgeLam.Gateway.Training.Aggregation;

/// <summary>Norms of LoRA updates computed from the factors, without the dense Out×In product.</summary>
public static class LowRankNorm
{
    /// <summary>‖Scale·B·A‖_F, via ‖BA‖²_F = Σ_ij (BᵀB)_ij·(AAᵀ)_ij, two Rank×Rank Gram matrices.</summary>
    public static double Frobenius(LoraFactors factors)
    {
        var rank = factors.Rank;
        var gramB = new double[rank, rank];
        for (var o = 0; o < factors.OutFeatures; o++)
            for (var i = 0; i < rank; i++)
                for (var j = 0; j < rank; j++)
                    gramB[i, j] += (double)factors.B[(o * rank) + i] * factors.B[(o * rank) + j];
        var sum = 0.0;
        for (var i = 0; i < rank; i++)
        {
            for (var j = 0; j < rank; j++)
            {
                var dot = 0.0;
                for (var c = 0; c < factors.InFeatures; c++)
                    dot += (double)factors.A[(i * factors.InFeatures) + c] * factors.A[(j * factors.InFeatures) + c];
                sum += gramB[i, j] * dot;
            }
        }
        return Math.Abs(factors.Scale) * Math.Sqrt(Math.Max(sum, 0));
    }
}
