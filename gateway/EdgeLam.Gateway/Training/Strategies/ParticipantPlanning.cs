using EdgeLam.Contracts.Messages;

namespace EdgeLam.Gateway.Training.Strategies;

/// <summary>Which fleet members can take part, on which layers, in which precision.</summary>
internal static class ParticipantPlanning
{
    /// <summary>
    /// Members with a usable rank (when LoRA) and at least one adaptable layer; first entry per device id wins. A LoRA
    /// member also needs a projection to train: those of its tier (<see cref="AdapterLayout.ProjectionsFor"/>) within
    /// its adaptable layers, and its layers are then the layers of those projections.
    /// </summary>
    public static IReadOnlyList<PlannedMember> Eligible(RoundContext context, IReadOnlyList<FleetMember> participants, bool requiresRank)
    {
        var result = new List<PlannedMember>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var member in participants)
        {
            if (member is null || string.IsNullOrWhiteSpace(member.DeviceId) || !seen.Add(member.DeviceId))
                continue;
            if (member.ExampleCount < 0 || (requiresRank && member.MaxRank < 1))
                continue;
            var layers = member.AdaptableLayers is null
                ? context.Layout.Layers
                : context.Layout.Layers.Where(member.AdaptableLayers.Contains).ToArray();
            var projections = context.Layout.ProjectionsFor(member.Tier, layers.ToArray()).ToArray();
            if (requiresRank)
                layers = projections.Select(p => p.Layer).Distinct().ToArray();
            if (layers.Count == 0)
                continue;
            result.Add(new PlannedMember(member, layers, projections));
        }
        return result;
    }

    /// <summary>LoRA uplinks: FP16 where supported, else INT8 (L-tier), else FP32 (handbook, "Device tiers").</summary>
    public static Precision AdapterPrecision(FleetMember member) =>
        member.Precisions.Contains(Precision.Fp16) ? Precision.Fp16
        : member.Precisions.Contains(Precision.Int8) ? Precision.Int8
        : Precision.Fp32;

    /// <summary>Full-model FedAvg is the accuracy reference, so it keeps FP32 wherever the device has it.</summary>
    public static Precision FullModelPrecision(FleetMember member) =>
        member.Precisions.Contains(Precision.Fp32) ? Precision.Fp32 : AdapterPrecision(member);

    /// <summary>A device's rank is capped by its projections' smaller dimension; beyond it LoRA adds nothing.</summary>
    public static int CapRank(IReadOnlyList<AdaptedProjection> projections, int rank)
    {
        foreach (var projection in projections)
            rank = Math.Min(rank, Math.Min(projection.InFeatures, projection.OutFeatures));
        return rank;
    }
}

/// <summary>A member that takes part in a round: the layers it is assigned and the projections it trains there (LoRA).</summary>
internal sealed record PlannedMember(FleetMember Member, IReadOnlyList<int> Layers, IReadOnlyList<AdaptedProjection> Projections);
