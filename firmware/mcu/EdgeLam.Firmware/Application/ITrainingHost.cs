using EdgeLam.Firmware.Training;

namespace EdgeLam.Firmware.Application;

/// <summary>What local training needs from the device beyond the MQTT session: the frozen model around the adapter and the shard.</summary>
public interface ITrainingHost
{
    /// <summary>Id of the frozen base model (baseModelId on the wire).</summary>
    string BaseModelId { get; }

    /// <summary>Encoder layers of the base model; the device adapts the last one.</summary>
    int LayerCount { get; }

    /// <summary>Tokens per image.</summary>
    int Tokens { get; }

    /// <summary>Input width of the adapted projection (fc2: the MLP width).</summary>
    int ProjectionIn { get; }

    /// <summary>The frozen head after the adapted block.</summary>
    FrozenHead Head { get; }

    /// <summary>The device's shard of an assignment, as activations at the adapted projection.</summary>
    ITrainingShard ShardFor(TrainingAssignment assignment);
}
