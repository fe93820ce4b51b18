namespace EdgeLam.Gateway.Training.Aggregation;

/// <summary>A vector with its FedAvg weight (normally the device's example count).</summary>
public readonly record struct WeightedVector(float[] Values, double Weight);

/// <summary>Weighted arithmetic mean Σ w_k x_k / Σ w_k, the FedAvg combination (McMahan et al. 2017, Alg. 1).</summary>
public static class WeightedAverage
{
    public static float[] Compute(IReadOnlyList<WeightedVector> vectors)
    {
        if (vectors.Count == 0)
            throw new ArgumentException("A weighted average needs at least one vector.", nameof(vectors));
        var length = vectors[0].Values.Length;
        var totalWeight = 0.0;
        foreach (var vector in vectors)
        {
            if (vector.Values.Length != length)
                throw new ArgumentException($"Vectors have lengths {length} and {vector.Values.Length}.", nameof(vectors));
            if (!double.IsFinite(vector.Weight) || vector.Weight < 0)
                throw new ArgumentException($"Weight {vector.Weight} is not a finite non-negative number.", nameof(vectors));
            totalWeight += vector.Weight;
        }
        if (totalWeight <= 0)
            throw new ArgumentException("The weights sum to zero.", nameof(vectors));

        // Accumulate in double: FedAvg over many devices otherwise drifts in the last float digits.
        var sum = new double[length];
        foreach (var vector in vectors)
        {
            var weight = vector.Weight / totalWeight;
            for (var i = 0; i < length; i++)
                sum[i] += weight * vector.Values[i];
        }
        var result = new float[length];
        for (var i = 0; i < length; i++)
            result[i] = (float)sum[i];
        return result;
    }
}
