using EdgeLam.Contracts.Messages;

namespace EdgeLam.Gateway.Training;

/// <summary>What one device is asked to do in a round.</summary>
/// <param name="Rank">LoRA rank to train at (ignored when <see cref="TrainsFullModel"/>).</param>
/// <param name="Layers">Encoder layers whose projections the device adapts.</param>
/// <param name="Precision">Precision of the device's uplink tensors.</param>
/// <param name="StartFrom">
/// Adapters (at <see cref="Rank"/>) or full weights the device starts local training from; for LoRA the start adapter
/// carries exactly the projections the device is to train (<see cref="AssignedProjections"/>).
/// </param>
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
    ModelParameters StartFrom)
{
    /// <summary>The projections a LoRA device may upload: those of its start adapter (none for full-model training).</summary>
    public IReadOnlyCollection<string> AssignedProjections => TrainsFullModel ? [] : StartFrom.Adapters.Keys.ToArray();
}

/// <summary>
/// A device's result: its adapters after local training (factors already de-quantized to float,
/// each with the device's scale alpha/r), or its full weights for full-model FedAvg.
/// </summary>
/// <param name="UplinkBytes">Bytes received on the wire for this reply (communication cost).</param>
public sealed record TrainingReply(string DeviceId, int ExampleCount, ModelParameters Trained, long UplinkBytes);

/// <summary>A device that was asked to train and did not deliver (timeout, disconnect, error report).</summary>
public sealed record TrainingFailure(string DeviceId, string Reason);
