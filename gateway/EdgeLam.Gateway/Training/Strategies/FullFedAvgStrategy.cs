using EdgeLam.Contracts.Messages;
using EdgeLam.Gateway.Training.Aggregation;

namespace EdgeLam.Gateway.Training.Strategies;

/// <summary>
/// Reference FedAvg over all model weights (McMahan et al. 2017): every device trains the full model and
/// uploads every tensor; each tensor is averaged by example count over the devices that sent it.
/// </summary>
public sealed class FullFedAvgStrategy : IFederatedStrategy
{
    public const string StrategyName = "full_fedavg";

    public string Name => StrategyName;

    /// <summary>Each tensor is the average of the round's copies of it; the previous global only keeps tensors nobody sent.</summary>
    public bool AggregatesEachTensorFromItsRoundOnly => true;

    /// <summary>
    /// Bytes of training state per parameter: the FP32 weight, its gradient and AdamW's two moments
    /// (Loshchilov and Hutter 2019); activations come on top.
    /// </summary>
    public const int TrainingBytesPerParameter = 16;

    /// <summary>
    /// Why a member cannot train the full model (null when it can): full updates travel as FP32 or FP16, and the
    /// device must hold the whole model's training state in the memory it declared (0 = not declared, not checked).
    /// </summary>
    public static string? Incapability(FleetMember member, AdapterLayout layout)
    {
        ArgumentNullException.ThrowIfNull(member);
        ArgumentNullException.ThrowIfNull(layout);
        if (!member.Precisions.Contains(Precision.Fp32) && !member.Precisions.Contains(Precision.Fp16))
            return $"{member.DeviceId} computes only in {string.Join(", ", member.Precisions.Select(WireMessages.EnumName))}; full-model weights travel as fp32 or fp16";
        var needed = layout.FullParameterCount * TrainingBytesPerParameter;
        if (member.MemoryBytes > 0 && member.MemoryBytes < needed)
            return $"{member.DeviceId} declares {member.MemoryBytes} bytes of model memory; training all {layout.FullParameterCount} weights needs {needed}";
        return null;
    }

    /// <summary>
    /// Only devices that can hold the full model take part (an ESP32 cannot); they start from the global weights,
    /// or with none yet (round 1) from the base checkpoint they hold.
    /// </summary>
    public IReadOnlyList<TrainingInstruction> ConfigureTrain(RoundContext context, IReadOnlyList<FleetMember> participants)
    {
        ArgumentNullException.ThrowIfNull(context);
        context.Validate();
        ArgumentNullException.ThrowIfNull(participants);
        var hyper = context.Hyperparameters;
        var start = ModelParameters.FromFullWeights(context.Global.Parameters.FullWeights);
        return ParticipantPlanning.Eligible(context, participants, requiresRank: false)
            .Where(e => Incapability(e.Member, context.Layout) is null)
            .Select(e => new TrainingInstruction(
                e.Member.DeviceId, 0, context.Layout.Layers, ParticipantPlanning.FullModelPrecision(e.Member), hyper.LocalSteps,
                hyper.LearningRate, hyper.BatchSize, hyper.LoraAlpha, TrainsFullModel: true, start))
            .ToArray();
    }

    public AggregationResult AggregateTrain(RoundContext context, IReadOnlyList<TrainingReply> replies, IReadOnlyList<TrainingFailure> failures)
    {
        ArgumentNullException.ThrowIfNull(context);
        context.Validate();
        replies ??= [];
        failures ??= [];
        var (accepted, rejected) = ReplyScreening.ScreenFullWeights(context, replies);
        if (accepted.Count == 0)
            return RoundOutcomes.KeptPrevious(context, replies, failures, rejected);

        var weights = new Dictionary<string, float[]>(context.Global.Parameters.FullWeights, StringComparer.Ordinal);
        var metrics = new List<ProjectionMetric>();
        foreach (var name in accepted.SelectMany(r => r.Trained.FullWeights.Keys).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal))
        {
            var vectors = accepted
                .Where(r => r.Trained.FullWeights.ContainsKey(name))
                .Select(r => new WeightedVector(r.Trained.FullWeights[name], r.ExampleCount))
                .ToArray();
            var averaged = WeightedAverage.Compute(vectors);
            weights[name] = averaged;
            var norm = Math.Sqrt(averaged.Sum(v => (double)v * v));
            metrics.Add(new ProjectionMetric(name, vectors.Length, 0, norm, new Dictionary<int, double>()));
        }

        var parameters = ModelParameters.FromFullWeights(weights);
        var downlinks = accepted.Select(r => new DeviceDownlink(r.DeviceId, 0, parameters)).ToArray();
        var state = new GlobalModelState(context.Global.AggregatedRounds + 1, parameters);
        return RoundOutcomes.Aggregated(Name, state, downlinks, accepted, replies.Sum(r => r?.UplinkBytes ?? 0), failures, rejected, metrics);
    }
}

/// <summary>The strategies by their configuration names.</summary>
public static class StrategyCatalog
{
    public static IReadOnlyList<string> Names { get; } =
        [FullFedAvgStrategy.StrategyName, UniformLoraStrategy.StrategyName, ZeroPaddedLoraStrategy.StrategyName, FedFtHStrategy.StrategyName];

    public static IFederatedStrategy Create(string name) => name switch
    {
        FullFedAvgStrategy.StrategyName => new FullFedAvgStrategy(),
        UniformLoraStrategy.StrategyName => new UniformLoraStrategy(),
        ZeroPaddedLoraStrategy.StrategyName => new ZeroPaddedLoraStrategy(),
        FedFtHStrategy.StrategyName => new FedFtHStrategy(),
        _ => throw new ArgumentException($"Unknown training strategy '{name}'; known: {string.Join(", ", Names)}.", nameof(name)),
    };
}
