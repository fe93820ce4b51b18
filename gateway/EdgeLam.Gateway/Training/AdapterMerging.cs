using EdgeLam.Model.Architecture;

namespace EdgeLam.Gateway.Training;

/// <summary>Folds aggregated adapters into base weights, W ← W + Scale·B·A, to evaluate a global model.</summary>
public static class AdapterMerging
{
    /// <summary>Adds every adapter's update to the matching projection of <paramref name="weights"/> in place.</summary>
    public static void MergeInto(TinyVitWeights weights, IReadOnlyDictionary<string, LoraFactors> adapters)
    {
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(adapters);
        foreach (var (name, factors) in adapters)
        {
            if (!ProjectionNames.TryParse(name, out var layer, out var kind) || layer >= weights.Blocks.Count)
                throw new ArgumentException($"Adapter {name} names no projection of a {weights.Blocks.Count}-layer model.", nameof(adapters));
            var linear = weights.Blocks[layer].Projections().Single(p => p.Name == kind).Linear;
            if (linear.In != factors.InFeatures || linear.Out != factors.OutFeatures)
                throw new ArgumentException($"Adapter {name} is {factors.OutFeatures}x{factors.InFeatures}, the projection is {linear.Out}x{linear.In}.", nameof(adapters));
            factors.Validate(name);
            var delta = factors.ToDenseDelta();
            for (var i = 0; i < delta.Length; i++)
                linear.W[i] += delta[i];
        }
    }
}
