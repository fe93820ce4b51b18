using System.Runtime.CompilerServices;
using EdgeLam.Gateway.Training;

namespace EdgeLam.Gateway.Unlearning.Methods;

/// <summary>
/// A device's change in one round, per adapted projection: s·B·A of its upload minus s'·B'·A' of the adapter the
/// gateway sent it, dense (Out×In, row-major, double). A FedFT-H round is the previous global plus the weighted
/// mean of these changes, so the changes are what a replay without another device has to aggregate.
/// </summary>
public sealed class ContributionChange
{
    private ContributionChange(double weight, IReadOnlyDictionary<string, DenseUpdate> projections)
    {
        Weight = weight;
        Projections = projections;
    }

    /// <summary>The weight the round gave the device (its example count, as the aggregation counts it).</summary>
    public double Weight { get; }

    public IReadOnlyDictionary<string, DenseUpdate> Projections { get; }

    /// <summary>The change of <paramref name="contribution"/>, or null when its start is not stored or it is not a LoRA update.</summary>
    public static ContributionChange? Of(StoredContribution contribution)
    {
        ArgumentNullException.ThrowIfNull(contribution);
        if (contribution.Start is not { } start || contribution.Parameters.FullWeights.Count > 0)
            return null;
        var projections = new Dictionary<string, DenseUpdate>(StringComparer.Ordinal);
        foreach (var (name, trained) in contribution.Parameters.Adapters)
        {
            if (!start.Adapters.TryGetValue(name, out var sent) || sent.InFeatures != trained.InFeatures || sent.OutFeatures != trained.OutFeatures)
                return null;
            var change = new DenseUpdate(trained.OutFeatures, trained.InFeatures);
            change.AddProduct(trained, 1.0);
            change.AddProduct(sent, -1.0);
            projections[name] = change;
        }
        return new ContributionChange(contribution.ToReply().ExampleCount, projections);
    }

    /// <summary>
    /// One round by the change rule: every projection the contributions trained becomes the previous global's plus
    /// Σ w_k·δ_k / Σ w_k over the contributions that trained it; the others stay as they were.
    /// </summary>
    public static GlobalModelState ApplyRound(GlobalModelState previous, IReadOnlyList<ContributionChange> changes)
    {
        ArgumentNullException.ThrowIfNull(previous);
        ArgumentNullException.ThrowIfNull(changes);
        var adapters = new Dictionary<string, LoraFactors>(previous.Parameters.Adapters, StringComparer.Ordinal);
        foreach (var name in changes.SelectMany(c => c.Projections.Keys).Distinct(StringComparer.Ordinal))
        {
            DenseUpdate? sum = null;
            var weight = 0.0;
            foreach (var change in changes)
            {
                if (!change.Projections.TryGetValue(name, out var delta))
                    continue;
                sum ??= new DenseUpdate(delta.OutFeatures, delta.InFeatures);
                sum.AddScaled(delta, change.Weight);
                weight += change.Weight;
            }
            if (sum is null || weight <= 0)
                continue;
            var updated = new DenseUpdate(sum.OutFeatures, sum.InFeatures);
            if (adapters.TryGetValue(name, out var before))
                updated.AddProduct(before, 1.0);
            updated.AddScaled(sum, 1 / weight);
            adapters[name] = updated.ToExactProduct();
        }
        return new GlobalModelState(previous.AggregatedRounds + 1, new ModelParameters(adapters, previous.Parameters.FullWeights));
    }
}

/// <summary>A dense update ΔW (Out×In, row-major) in double, for sums of LoRA products that must not lose precision.</summary>
public sealed class DenseUpdate(int outFeatures, int inFeatures)
{
    public int OutFeatures { get; } = outFeatures;
    public int InFeatures { get; } = inFeatures;
    public double[] Values { get; } = new double[outFeatures * inFeatures];

    /// <summary>Adds coefficient·Scale·B·A.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // a hot loop, run once per unlearning: compiled optimized from the first call
    public void AddProduct(LoraFactors factors, double coefficient)
    {
        ArgumentNullException.ThrowIfNull(factors);
        RequireShape(factors.OutFeatures, factors.InFeatures);
        var rank = factors.Rank;
        for (var o = 0; o < OutFeatures; o++)
        {
            var row = Values.AsSpan(o * InFeatures, InFeatures);
            for (var k = 0; k < rank; k++)
            {
                var factor = coefficient * factors.Scale * factors.B[(o * rank) + k];
                if (factor == 0)
                    continue;
                var a = factors.A.AsSpan(k * InFeatures, InFeatures);
                for (var i = 0; i < row.Length; i++)
                    row[i] += factor * a[i];
            }
        }
    }

    /// <summary>Adds coefficient·other.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // a hot loop, run once per unlearning: compiled optimized from the first call
    public void AddScaled(DenseUpdate other, double coefficient)
    {
        ArgumentNullException.ThrowIfNull(other);
        RequireShape(other.OutFeatures, other.InFeatures);
        var values = Values;
        var source = other.Values;
        for (var i = 0; i < values.Length; i++)
            values[i] += coefficient * source[i];
    }

    /// <summary>Multiplies every entry by <paramref name="factor"/>.</summary>
    public void Scale(double factor)
    {
        var values = Values;
        for (var i = 0; i < values.Length; i++)
            values[i] *= factor;
    }

    public DenseUpdate Copy()
    {
        var copy = new DenseUpdate(OutFeatures, InFeatures);
        Values.CopyTo(copy.Values, 0);
        return copy;
    }

    /// <summary>
    /// ΔW as an exact scaled product (Scale 1) without a decomposition: the smaller side is the identity, so B·A = ΔW
    /// in float; the next round's downlink decomposes it anyway.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // a hot loop, run once per unlearning: compiled optimized from the first call
    public LoraFactors ToExactProduct()
    {
        var dense = new float[Values.Length];
        for (var i = 0; i < dense.Length; i++)
            dense[i] = (float)Values[i];
        if (OutFeatures <= InFeatures)
            return new LoraFactors(OutFeatures, InFeatures, OutFeatures, dense, Identity(OutFeatures), 1f);
        return new LoraFactors(InFeatures, InFeatures, OutFeatures, Identity(InFeatures), dense, 1f);
    }

    private static float[] Identity(int size)
    {
        var identity = new float[size * size];
        for (var i = 0; i < size; i++)
            identity[(i * size) + i] = 1f;
        return identity;
    }

    private void RequireShape(int outFeatures, int inFeatures)
    {
        if (outFeatures != OutFeatures || inFeatures != InFeatures)
            throw new ArgumentException($"A {outFeatures}x{inFeatures} update does not fit a {OutFeatures}x{InFeatures} sum.");
    }
}
