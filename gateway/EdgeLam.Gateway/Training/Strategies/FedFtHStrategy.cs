using EdgeLam.Gateway.Training.Aggregation;
using EdgeLam.Gateway.Training.LinearAlgebra;

namespace EdgeLam.Gateway.Training.Strategies;

/// <summary>
/// FedFT-H heterogeneity-aware aggregation (Algorithm 1): every device trains at its own rank; the
/// server averages the updates as products, ΔW = Σ w_k·s_k·B_k·A_k / Σ w_k, which is exact for any mix
/// of ranks, keeps ΔW as an exact scaled product, and sends each device the best rank-r_k approximation;
/// what a device's rank could not carry of the previous global is kept at the gateway, not dropped.
/// </summary>
public sealed class FedFtHStrategy : LoraFederatedStrategy
{
    public const string StrategyName = "fedft_h";

    public override string Name => StrategyName;

    /// <summary>False: the part of the previous global that low-rank devices could not hold is carried into the new one.</summary>
    public override bool AggregatesEachTensorFromItsRoundOnly => false;

    /// <summary>True: Σ w_k·(s_k·B_k·A_k + residual_k)/Σ w_k is the previous global plus the mean of (upload − best rank-r_k start).</summary>
    public override bool AggregatesChangesFromStart => true;

    protected override int RankFor(FleetMember member, IReadOnlyList<FleetMember> eligible) => member.MaxRank;

    protected override LoraFactors AggregateProjection(RoundContext context, AdaptedProjection projection, IReadOnlyList<WeightedFactors> contributions)
    {
        var totalWeight = contributions.Sum(c => c.Weight);
        var terms = contributions.Select(c => LowRankTerm.FromFactors(c.Factors, c.Weight / totalWeight)).ToList();
        if (context.Global.Parameters.Adapters.TryGetValue(projection.Name, out var previous))
            terms.Add(UnrepresentedResidual(previous, contributions, totalWeight));
        return RankRefactorization.ToExactProduct(ProductAggregation.StackedDecomposition(terms));
    }

    /// <summary>
    /// A device of rank r started from the best rank-r part of the previous global, so the mean of the products
    /// lacks, for every singular direction j, the weight share of the devices whose rank does not reach j.
    /// That share of σ_j·u_j·v_jᵀ is added back: the new global is the previous one plus the mean of the
    /// devices' changes, and what a low-rank device cannot represent stays at the gateway instead of decaying.
    /// </summary>
    internal static LowRankTerm UnrepresentedResidual(LoraFactors previous, IReadOnlyList<WeightedFactors> contributions, double totalWeight)
    {
        var svd = RankRefactorization.Decompose(previous);
        var directions = RankRefactorization.NumericalRank(svd);
        var b = new Matrix(previous.OutFeatures, directions);
        var a = new Matrix(directions, previous.InFeatures);
        for (var j = 0; j < directions; j++)
        {
            var unrepresented = contributions.Where(c => c.Factors.Rank <= j).Sum(c => c.Weight) / totalWeight;
            for (var o = 0; o < previous.OutFeatures; o++)
                b[o, j] = svd.LeftVectors[o, j] * svd.SingularValues[j] * unrepresented;
            for (var i = 0; i < previous.InFeatures; i++)
                a[j, i] = svd.RightVectors[i, j];
        }
        return new LowRankTerm(b, a, 1.0);
    }

    protected override Func<int, Random, LoraFactors> DownlinkProjector(RoundContext context, LoraFactors global)
    {
        var svd = RankRefactorization.Decompose(global);
        return (rank, freshDirections) => RankRefactorization.ToFactors(svd, rank, context.Hyperparameters.LoraAlpha / rank, freshDirections);
    }
}

/// <summary>
/// Homogeneous LoRA (FedIT-style): the whole fleet trains at its smallest rank and A and B are averaged
/// separately. Simple and rank-consistent, but high-tier devices are held to the L-tier's rank.
/// </summary>
public sealed class UniformLoraStrategy : LoraFederatedStrategy
{
    public const string StrategyName = "fedlora_uniform";

    public override string Name => StrategyName;

    protected override int RankFor(FleetMember member, IReadOnlyList<FleetMember> eligible) => eligible.Min(m => m.MaxRank);

    protected override string? RejectionReason(TrainingReply reply, IReadOnlyList<TrainingReply> wellFormed)
    {
        var uniformRank = wellFormed.SelectMany(r => r.Trained.Adapters.Values).Min(f => f.Rank);
        var other = reply.Trained.Adapters.Values.FirstOrDefault(f => f.Rank != uniformRank);
        return other is null ? null
            : $"Device {reply.DeviceId} trained at rank {other.Rank}; this round's uniform rank is {uniformRank}.";
    }

    protected override LoraFactors AggregateProjection(RoundContext context, AdaptedProjection projection, IReadOnlyList<WeightedFactors> contributions)
    {
        var rank = contributions[0].Factors.Rank;
        var (a, b) = FactorAveraging.ZeroPaddedMean(contributions, rank);
        return new LoraFactors(rank, projection.InFeatures, projection.OutFeatures, a, b, context.Hyperparameters.LoraAlpha / rank);
    }

    protected override Func<int, Random, LoraFactors> DownlinkProjector(RoundContext context, LoraFactors global) =>
        (rank, freshDirections) => Resize(context, global, rank, freshDirections);

    private static LoraFactors Resize(RoundContext context, LoraFactors global, int rank, Random freshDirections)
    {
        var resized = FactorAveraging.Resize(global, rank, freshDirections);
        var scale = context.Hyperparameters.LoraAlpha / rank;
        if (resized.Scale == scale)
            return resized;
        // A change of uniform rank (fleet changed) keeps the leading directions' product: B absorbs the scale ratio.
        var ratio = resized.Scale / scale;
        return resized with { B = resized.B.Select(v => v * ratio).ToArray(), Scale = scale };
    }
}

/// <summary>
/// Naive heterogeneous baseline (HetLoRA-style zero-padding): ranks are zero-padded to the largest,
/// A and B averaged separately, and each device gets the leading r_k rows/columns back under its own
/// scale alpha/r_k. Padding dilutes high-rank directions and the mean of products is not the product
/// of means; FedFT-H is measured against this.
/// </summary>
public sealed class ZeroPaddedLoraStrategy : LoraFederatedStrategy
{
    public const string StrategyName = "fedlora_zeropad";

    public override string Name => StrategyName;

    protected override int RankFor(FleetMember member, IReadOnlyList<FleetMember> eligible) => member.MaxRank;

    protected override LoraFactors AggregateProjection(RoundContext context, AdaptedProjection projection, IReadOnlyList<WeightedFactors> contributions)
    {
        var maximumRank = contributions.Max(c => c.Factors.Rank);
        var (a, b) = FactorAveraging.ZeroPaddedMean(contributions, maximumRank);
        return new LoraFactors(maximumRank, projection.InFeatures, projection.OutFeatures, a, b, context.Hyperparameters.LoraAlpha / maximumRank);
    }

    protected override Func<int, Random, LoraFactors> DownlinkProjector(RoundContext context, LoraFactors global) =>
        (rank, freshDirections) => FactorAveraging.Resize(global, rank, freshDirections) with { Scale = context.Hyperparameters.LoraAlpha / rank };
}
