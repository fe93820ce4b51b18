using EdgeLam.Gateway.Training.Aggregation;

namespace EdgeLam.Gateway.Training.Strategies;

/// <summary>
/// FedFT-H heterogeneity-aware aggregation (Algorithm 1): every device trains at its own rank; the
/// server averages the updates as products, ΔW = Σ w_k·s_k·B_k·A_k / Σ w_k, which is exact for any mix
/// of ranks, keeps ΔW as an exact scaled product, and sends each device the best rank-r_k approximation.
/// </summary>
public sealed class FedFtHStrategy : LoraFederatedStrategy
{
    public const string StrategyName = "fedft_h";

    public override string Name => StrategyName;

    protected override int RankFor(FleetMember member, IReadOnlyList<FleetMember> eligible) => member.MaxRank;

    protected override LoraFactors AggregateProjection(RoundContext context, AdaptedProjection projection, IReadOnlyList<WeightedFactors> contributions)
    {
        var totalWeight = contributions.Sum(c => c.Weight);
        var terms = contributions.Select(c => LowRankTerm.FromFactors(c.Factors, c.Weight / totalWeight)).ToArray();
        return RankRefactorization.ToExactProduct(ProductAggregation.StackedDecomposition(terms));
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
