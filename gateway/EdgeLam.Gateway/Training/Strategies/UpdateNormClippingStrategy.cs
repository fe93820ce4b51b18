using EdgeLam.Gateway.Training.Aggregation;

namespace EdgeLam.Gateway.Training.Strategies;

/// <summary>
/// Wraps another strategy and bounds every device's contribution before aggregation (norm bounding,
/// Sun et al. 2019, "Can You Really Backdoor Federated Learning?"): a LoRA reply whose total update norm
/// √Σ_p ‖s·B_p·A_p‖²_F exceeds the bound has both factors scaled by √(bound/norm), so its product scales
/// by bound/norm; a full-weight reply has its difference from the global weights scaled the same way.
/// </summary>
public sealed class UpdateNormClippingStrategy : IFederatedStrategy
{
    private readonly IFederatedStrategy inner;

    public UpdateNormClippingStrategy(IFederatedStrategy inner, double maximumUpdateNorm)
    {
        ArgumentNullException.ThrowIfNull(inner);
        if (!double.IsFinite(maximumUpdateNorm) || maximumUpdateNorm <= 0)
            throw new ArgumentOutOfRangeException(nameof(maximumUpdateNorm), maximumUpdateNorm, "The update norm bound must be positive and finite.");
        this.inner = inner;
        MaximumUpdateNorm = maximumUpdateNorm;
    }

    public double MaximumUpdateNorm { get; }

    public string Name => inner.Name + "+clip";

    public IReadOnlyList<TrainingInstruction> ConfigureTrain(RoundContext context, IReadOnlyList<FleetMember> participants) =>
        inner.ConfigureTrain(context, participants);

    public AggregationResult AggregateTrain(RoundContext context, IReadOnlyList<TrainingReply> replies, IReadOnlyList<TrainingFailure> failures)
    {
        ArgumentNullException.ThrowIfNull(context);
        replies ??= [];
        var clipped = 0;
        var bounded = new List<TrainingReply>(replies.Count);
        foreach (var reply in replies)
        {
            var result = reply?.Trained is null ? reply : Clip(context, reply);
            if (!ReferenceEquals(result, reply))
                clipped++;
            bounded.Add(result!);
        }
        var aggregated = inner.AggregateTrain(context, bounded, failures);
        return clipped == 0 ? aggregated
            : aggregated with { Summary = $"{aggregated.Summary} {clipped} updates clipped to norm {MaximumUpdateNorm:G4}." };
    }

    private TrainingReply Clip(RoundContext context, TrainingReply reply)
    {
        var adapters = reply.Trained.Adapters;
        var fullWeights = reply.Trained.FullWeights;
        // Malformed replies pass through untouched; the inner strategy rejects them with a reason.
        if (adapters.Values.Any(f => f?.ValidationError("") is not null) || fullWeights.Values.Any(w => w is null || LoraFactors.FirstNonFinite(w) is not null))
            return reply;

        var squaredNorm = adapters.Values.Sum(f => Math.Pow(LowRankNorm.Frobenius(f), 2));
        var global = context.Global.Parameters.FullWeights;
        foreach (var (name, weights) in fullWeights)
        {
            if (global.TryGetValue(name, out var reference) && reference.Length == weights.Length)
                squaredNorm += weights.Select((w, i) => Math.Pow((double)w - reference[i], 2)).Sum();
        }
        var norm = Math.Sqrt(squaredNorm);
        if (norm <= MaximumUpdateNorm)
            return reply;

        var factor = MaximumUpdateNorm / norm;
        var root = (float)Math.Sqrt(factor);
        var clippedAdapters = adapters.ToDictionary(
            entry => entry.Key,
            entry => entry.Value with { A = entry.Value.A.Select(v => v * root).ToArray(), B = entry.Value.B.Select(v => v * root).ToArray() },
            StringComparer.Ordinal);
        var clippedWeights = fullWeights.ToDictionary(
            entry => entry.Key,
            entry => global.TryGetValue(entry.Key, out var reference) && reference.Length == entry.Value.Length
                ? entry.Value.Select((w, i) => (float)(reference[i] + (factor * ((double)w - reference[i])))).ToArray()
                : entry.Value,
            StringComparer.Ordinal);
        return reply with { Trained = new ModelParameters(clippedAdapters, clippedWeights) };
    }
}
