namespace EdgeLam.Gateway.Training.Aggregation;

/// <summary>A device's factors of one projection with its FedAvg weight.</summary>
public readonly record struct WeightedFactors(LoraFactors Factors, double Weight);

/// <summary>
/// Factor-wise averaging, the LoRA baselines: A and B are averaged separately (FedIT, Zhang et al. 2024),
/// after zero-padding heterogeneous ranks to a common one (HetLoRA-style, Cho et al. 2024). The mean of
/// the factors' product is not the product of their means, which is the error FedFT-H removes.
/// </summary>
public static class FactorAveraging
{
    /// <summary>Weighted means of A (rank×In) and B (Out×rank), each factor zero-padded to <paramref name="rank"/>.</summary>
    public static (float[] A, float[] B) ZeroPaddedMean(IReadOnlyList<WeightedFactors> contributions, int rank)
    {
        if (contributions.Count == 0)
            throw new ArgumentException("At least one contribution is needed.", nameof(contributions));
        var first = contributions[0].Factors;
        var aVectors = new List<WeightedVector>(contributions.Count);
        var bVectors = new List<WeightedVector>(contributions.Count);
        foreach (var (factors, weight) in contributions)
        {
            if (factors.InFeatures != first.InFeatures || factors.OutFeatures != first.OutFeatures)
                throw new ArgumentException(
                    $"Factors of shape {factors.OutFeatures}x{factors.InFeatures} and {first.OutFeatures}x{first.InFeatures} cannot be averaged.", nameof(contributions));
            if (factors.Rank > rank)
                throw new ArgumentException($"Rank {factors.Rank} does not fit the padded rank {rank}.", nameof(contributions));
            var padded = Resize(factors, rank, freshDirections: null);
            aVectors.Add(new WeightedVector(padded.A, weight));
            bVectors.Add(new WeightedVector(padded.B, weight));
        }
        return (WeightedAverage.Compute(aVectors), WeightedAverage.Compute(bVectors));
    }

    /// <summary>
    /// The leading <paramref name="rank"/> rows of A and columns of B; when growing, the new rows of A are
    /// zero (or a fresh LoRA start when a random source is given) and the new columns of B are zero. Scale is kept.
    /// </summary>
    public static LoraFactors Resize(LoraFactors factors, int rank, Random? freshDirections)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rank);
        var inFeatures = factors.InFeatures;
        var outFeatures = factors.OutFeatures;
        var kept = Math.Min(rank, factors.Rank);
        var a = new float[rank * inFeatures];
        Array.Copy(factors.A, a, kept * inFeatures);
        var b = new float[outFeatures * rank];
        for (var o = 0; o < outFeatures; o++)
            Array.Copy(factors.B, o * factors.Rank, b, o * rank, kept);
        if (freshDirections is not null)
            AdapterInitialization.FillFreshRows(a, kept, rank, inFeatures, freshDirections);
        return new LoraFactors(rank, inFeatures, outFeatures, a, b, factors.Scale);
    }
}
