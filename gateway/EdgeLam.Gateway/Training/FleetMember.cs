using EdgeLam.Contracts.Messages;

namespace EdgeLam.Gateway.Training;

/// <summary>
/// A device as the strategy sees it when planning a round.
/// </summary>
/// <param name="Tier">From the board profile (handbook, "Device tiers").</param>
/// <param name="Precisions">Precisions the device computes in; LoRA uplinks use FP16 where available, else INT8.</param>
/// <param name="AdaptableLayers">Encoder layers whose adapters fit the device's memory; null means all layers.</param>
/// <param name="ExampleCount">Local training examples, the FedAvg weight (McMahan et al. 2017).</param>
public sealed record FleetMember(
    string DeviceId,
    DeviceTier Tier,
    int MaxRank,
    IReadOnlyList<Precision> Precisions,
    IReadOnlyList<int>? AdaptableLayers,
    int ExampleCount);

/// <summary>Local training settings shared by every device in a round.</summary>
/// <param name="LoraAlpha">Device scaling is LoraAlpha / rank (Hu et al. 2021).</param>
/// <param name="Seed">Seeds fresh adapter directions, so a round is reproducible.</param>
public sealed record TrainingHyperparameters(
    int LocalSteps = 20,
    double LearningRate = 1e-3,
    int BatchSize = 32,
    float LoraAlpha = 16f,
    int Seed = 1234)
{
    public static TrainingHyperparameters Default { get; } = new();
}

/// <summary>
/// Everything a strategy needs for one round, passed in rather than kept on the strategy
/// (the strategy holds no state between calls).
/// </summary>
/// <param name="RoundNumber">1-based round being planned or aggregated.</param>
/// <param name="Global">Server model before this round.</param>
public sealed record RoundContext(
    int RoundNumber,
    GlobalModelState Global,
    AdapterLayout Layout,
    TrainingHyperparameters Hyperparameters);

/// <summary>What one device is asked to do in a round.</summary>
/// <param name="Rank">LoRA rank to train at (ignored when <see cref="TrainsFullModel"/>).</param>
/// <param name="Layers">Encoder layers whose projections the device adapts.</param>
/// <param name="Precision">Precision of the device's uplink tensors.</param>
/// <param name="StartFrom">Adapters (at <see cref="Rank"/>) or full weights the device starts local training from.</param>
public sealed record TrainingInstruction(
    string DeviceId,
    int Rank,
    IReadOnlyList<int> Layers,
    Precision Precision,
    int LocalSteps,
    double LearningRate,
    int BatchSize,
    float LoraAlpha,
    bool TrainsFullModel,
    ModelParameters StartFrom);

/// <summary>
/// A device's result: its adapters after local training (factors already de-quantized to float,
/// each with the device's scale alpha/r), or its full weights for full-model FedAvg.
/// </summary>
/// <param name="UplinkBytes">Bytes received on the wire for this reply (communication cost).</param>
public sealed record TrainingReply(string DeviceId, int ExampleCount, ModelParameters Trained, long UplinkBytes);

/// <summary>A device that was asked to train and did not deliver (timeout, disconnect, error report).</summary>
public sealed record TrainingFailure(string DeviceId, string Reason);
