using EdgeLam.Gateway.Training.Aggregation;
using EdgeLam.Gateway.Training.LinearAlgebra;

namespace EdgeLam.Gateway.Training.Strategies;

/// <summary>
/// The round shape shared by the LoRA strategies: plan ranks and starting adapters per device, screen
/// replies, aggregate each projection over only the devices that trained it, and project the result
/// back to every device's rank. Subclasses decide the rank policy and the per-projection math.
/// </summary>
public abstract class LoraFederatedStrategy : IFederatedStrategy
{
    public abstract string Name { get; }

    /// <summary>Rank a member trains at this round, before capping by projection size.</summary>
    protected abstract int RankFor(FleetMember member, IReadOnlyList<FleetMember> eligible);

    /// <summary>New global factors of one projection from the devices that trained it (at least one).</summary>
    protected abstract LoraFactors AggregateProjection(RoundContext context, AdaptedProjection projection, IReadOnlyList<WeightedFactors> contributions);

    /// <summary>
    /// A function giving the global factors of one projection as a device of a given rank receives them;
    /// any decomposition it needs is done once here and shared by every device of the call.
    /// </summary>
    protected abstract Func<int, Random, LoraFactors> DownlinkProjector(RoundContext context, LoraFactors global);

    /// <summary>Strategy-specific reason to reject an otherwise well-formed reply, or null.</summary>
    protected virtual string? RejectionReason(TrainingReply reply, IReadOnlyList<TrainingReply> wellFormed) => null;

    public IReadOnlyList<TrainingInstruction> ConfigureTrain(RoundContext context, IReadOnlyList<FleetMember> participants)
    {
        ArgumentNullException.ThrowIfNull(context);
        context.Validate();
        ArgumentNullException.ThrowIfNull(participants);
        var eligible = ParticipantPlanning.Eligible(context, participants, requiresRank: true);
        var members = eligible.Select(e => e.Member).ToArray();
        var hyper = context.Hyperparameters;
        var instructions = new List<TrainingInstruction>(eligible.Count);
        var projectors = context.Global.Parameters.Adapters.ToDictionary(
            entry => entry.Key, entry => new Lazy<Func<int, Random, LoraFactors>>(() => DownlinkProjector(context, entry.Value)), StringComparer.Ordinal);
        foreach (var (member, layers, projections) in eligible)
        {
            var rank = ParticipantPlanning.CapRank(projections, RankFor(member, members));
            // The start adapter names exactly the projections the device is to train: devices adapt what it carries.
            var start = new Dictionary<string, LoraFactors>(StringComparer.Ordinal);
            foreach (var projection in projections)
            {
                var random = DeterministicRandom.For(hyper.Seed, context.RoundNumber, member.DeviceId, projection.Name);
                start[projection.Name] = projectors.TryGetValue(projection.Name, out var projector)
                    ? projector.Value(rank, random)
                    : AdapterInitialization.Fresh(projection, rank, hyper.LoraAlpha / rank, random);
            }
            instructions.Add(new TrainingInstruction(
                member.DeviceId, rank, layers, ParticipantPlanning.AdapterPrecision(member), hyper.LocalSteps,
                hyper.LearningRate, hyper.BatchSize, hyper.LoraAlpha, TrainsFullModel: false, ModelParameters.FromAdapters(start)));
        }
        return instructions;
    }

    public AggregationResult AggregateTrain(RoundContext context, IReadOnlyList<TrainingReply> replies, IReadOnlyList<TrainingFailure> failures)
    {
        ArgumentNullException.ThrowIfNull(context);
        context.Validate();
        replies ??= [];
        failures ??= [];
        var (accepted, rejections) = Screen(context, replies);
        if (accepted.Count == 0)
            return RoundOutcomes.KeptPrevious(context, replies, failures, rejections);
        var (adapters, contributorCounts) = AggregateAdapters(context, accepted);

        var hyper = context.Hyperparameters;
        var downlinks = new List<DeviceDownlink>(accepted.Count);
        var downlinkProjectors = contributorCounts.Keys.ToDictionary(name => name, name => DownlinkProjector(context, adapters[name]), StringComparer.Ordinal);
        var downlinkByRank = new Dictionary<(string Projection, int Rank), LoraFactors>();
        foreach (var reply in accepted)
        {
            var parameters = new Dictionary<string, LoraFactors>(StringComparer.Ordinal);
            foreach (var (name, trained) in reply.Trained.Adapters)
            {
                // Seeded as the next round's planning is, so the downlink equals the device's next starting point.
                var random = DeterministicRandom.For(hyper.Seed, context.RoundNumber + 1, reply.DeviceId, name);
                parameters[name] = downlinkProjectors[name](trained.Rank, random);
                downlinkByRank.TryAdd((name, trained.Rank), parameters[name]);
            }
            downlinks.Add(new DeviceDownlink(reply.DeviceId, reply.Trained.Adapters.Values.Max(f => f.Rank), ModelParameters.FromAdapters(parameters)));
        }

        var projectionMetrics = contributorCounts.Select(entry =>
        {
            var global = adapters[entry.Key];
            var dense = Matrix.FromRowMajor(global.OutFeatures, global.InFeatures, global.ToDenseDelta());
            var norm = dense.FrobeniusNorm();
            var errors = downlinkByRank
                .Where(d => d.Key.Projection == entry.Key)
                .OrderBy(d => d.Key.Rank)
                .ToDictionary(
                    d => d.Key.Rank,
                    d => norm == 0 ? 0 : Matrix.FromRowMajor(global.OutFeatures, global.InFeatures, d.Value.ToDenseDelta()).Subtract(dense).FrobeniusNorm() / norm);
            return new ProjectionMetric(entry.Key, entry.Value, global.Rank, norm, errors);
        }).ToArray();

        var state = new GlobalModelState(context.Global.AggregatedRounds + 1, ModelParameters.FromAdapters(adapters));
        return RoundOutcomes.Aggregated(Name, state, downlinks, accepted, replies.Sum(r => r?.UplinkBytes ?? 0), failures, rejections, projectionMetrics);
    }

    public GlobalModelState AggregateGlobal(RoundContext context, IReadOnlyList<TrainingReply> replies)
    {
        ArgumentNullException.ThrowIfNull(context);
        context.Validate();
        var (accepted, _) = Screen(context, replies ?? []);
        return accepted.Count == 0
            ? context.Global
            : new GlobalModelState(context.Global.AggregatedRounds + 1, ModelParameters.FromAdapters(AggregateAdapters(context, accepted).Adapters));
    }

    /// <summary>Each projection's aggregate uses only the round's contributions to it (<see cref="AggregateProjection"/>).</summary>
    public virtual bool AggregatesEachTensorFromItsRoundOnly => true;

    /// <summary>Whether the aggregate is the previous global plus the weighted mean of changes (<see cref="IFederatedStrategy.AggregatesChangesFromStart"/>).</summary>
    public virtual bool AggregatesChangesFromStart => false;

    private (List<TrainingReply> Accepted, List<RejectedReply> Rejected) Screen(RoundContext context, IReadOnlyList<TrainingReply> replies)
    {
        var (wellFormed, rejected) = ReplyScreening.ScreenAdapters(context, replies);
        var rejections = rejected.ToList();
        var accepted = new List<TrainingReply>();
        foreach (var reply in wellFormed)
        {
            if (RejectionReason(reply, wellFormed) is { } reason)
                rejections.Add(new RejectedReply(reply.DeviceId, reason));
            else
                accepted.Add(reply);
        }
        return (accepted, rejections);
    }

    /// <summary>The previous global with every trained projection replaced by its aggregate; projections are independent, so they run in parallel.</summary>
    private (Dictionary<string, LoraFactors> Adapters, Dictionary<string, int> ContributorCounts) AggregateAdapters(RoundContext context, IReadOnlyList<TrainingReply> accepted)
    {
        var projections = context.Layout.Projections;
        var aggregates = new (LoraFactors Factors, int Contributors)?[projections.Count];
        Parallel.For(0, projections.Count, p =>
        {
            var projection = projections[p];
            // Per-layer participation: only devices that trained this projection take part in its average.
            var contributions = accepted
                .Where(r => r.Trained.Adapters.ContainsKey(projection.Name))
                .Select(r => new WeightedFactors(r.Trained.Adapters[projection.Name], r.ExampleCount))
                .ToArray();
            if (contributions.Length > 0)
                aggregates[p] = (AggregateProjection(context, projection, contributions), contributions.Length);
        });

        var adapters = new Dictionary<string, LoraFactors>(context.Global.Parameters.Adapters, StringComparer.Ordinal);
        var contributorCounts = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var p = 0; p < projections.Count; p++)
        {
            if (aggregates[p] is not { } aggregate)
                continue;
            adapters[projections[p].Name] = aggregate.Factors;
            contributorCounts[projections[p].Name] = aggregate.Contributors;
        }
        return (adapters, contributorCounts);
    }
}

/// <summary>Builds the results every strategy reports, so summaries read the same across strategies.</summary>
internal static class RoundOutcomes
{
    public static AggregationResult KeptPrevious(
        RoundContext context, IReadOnlyList<TrainingReply> replies, IReadOnlyList<TrainingFailure> failures, IReadOnlyList<RejectedReply> rejected)
    {
        var metrics = new AggregationMetrics(0, failures.Count, rejected.Count, 0, replies.Sum(r => r?.UplinkBytes ?? 0), []);
        var summary = $"Round {context.RoundNumber}: no usable update ({failures.Count} failed, {rejected.Count} rejected); "
            + $"kept the global state of {context.Global.AggregatedRounds} aggregated rounds.";
        return new AggregationResult(AggregationOutcome.KeptPreviousState, context.Global, [], rejected, metrics, summary);
    }

    public static AggregationResult Aggregated(
        string strategy, GlobalModelState state, IReadOnlyList<DeviceDownlink> downlinks, IReadOnlyList<TrainingReply> accepted,
        long uplinkBytes, IReadOnlyList<TrainingFailure> failures, IReadOnlyList<RejectedReply> rejected, IReadOnlyList<ProjectionMetric> projections)
    {
        var metrics = new AggregationMetrics(
            accepted.Count, failures.Count, rejected.Count, accepted.Sum(r => (long)r.ExampleCount),
            uplinkBytes, projections);
        var summary = $"{strategy}: aggregated {accepted.Count} updates ({metrics.TotalExamples} examples) into {projections.Count} tensors; "
            + $"{failures.Count} failed, {rejected.Count} rejected.";
        return new AggregationResult(AggregationOutcome.Aggregated, state, downlinks, rejected, metrics, summary);
    }
}
