using EdgeLam.Contracts.Messages;

namespace EdgeLam.Gateway.Training;

/// <summary>
/// A device as the strategy sees it when planning a round.
/// </summary>
/// <param name="Tier">From the board profile (handbook, "Device tiers").</param>
/// <param name="Precisions">Precisions the device computes in; LoRA uplinks use FP16 where available, else INT8.</param>
/// <param name="AdaptableLayers">Encoder layers whose adapters fit the device's memory; null means all layers.</param>
/// <param name="ExampleCount">Local training examples if known, else 0; aggregation weighs by the count each reply reports.</param>
public sealed record FleetMember(
    string DeviceId,
    DeviceTier Tier,
    int MaxRank,
    IReadOnlyList<Precision> Precisions,
    IReadOnlyList<int>? AdaptableLayers,
    int ExampleCount)
{
    /// <summary>Model memory the device declared in its hello (0 when unknown); full-model training needs it.</summary>
    public long MemoryBytes { get; init; }
}
