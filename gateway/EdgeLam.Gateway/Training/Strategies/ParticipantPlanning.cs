using EdgeLam.Contracts.Messages;

namespace EdgeLam.Gateway.Training.Strategies;

/// <summary>Which fleet members can take part, on which layers, in which precision.</summary>
internal static class ParticipantPlanning
{
    /// <summary>Members with a usable rank (when LoRA) and at least one adaptable layer; first entry per device id wins.</summary>
    public static IReadOnlyList<(FleetMember Member, IReadOnlyList<int> Layers)> Eligible(
        RoundContext context, IReadOnlyList<FleetMember> participants, bool requiresRank)
    {
        var result = new List<(FleetMember, IReadOnlyList<int>)>();
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
            if (layers.Count == 0)
                continue;
            result.Add((member, layers));
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
    public static int CapRank(RoundContext context, IReadOnlyList<int> layers, int rank)
    {
        foreach (var projection in context.Layout.ProjectionsOfLayers(layers.ToArray()))
            rank = Math.Min(rank, Math.Min(projection.InFeatures, projection.OutFeatures));
        return rank;
    }
}
