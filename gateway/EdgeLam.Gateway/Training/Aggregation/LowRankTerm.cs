using EdgeLam.Gateway.Training.LinearAlgebra;

namespace EdgeLam.Gateway.Training.Aggregation;

/// <summary>One summand Coefficient·B·A of a sum of low-rank products; B is Out×r, A is r×In.</summary>
public sealed record LowRankTerm(Matrix B, Matrix A, double Coefficient)
{
    public static LowRankTerm FromFactors(LoraFactors factors, double weight) => new(
        Matrix.FromRowMajor(factors.OutFeatures, factors.Rank, factors.B),
        Matrix.FromRowMajor(factors.Rank, factors.InFeatures, factors.A),
        weight * factors.Scale);
}
