namespace EdgeLam.Firmware.Training;

/// <summary>
/// The device's local examples as the frozen part of the model sees them at the adapted layer: for example i, the
/// input of the adapted projection (hidden [tokens, in]) and what the block outputs without the adapter
/// (frozen output [tokens, out], residual included). Computed by the frozen forward (int8 kernels or float).
/// </summary>
public interface ITrainingShard
{
    /// <summary>Examples in the shard.</summary>
    int Count { get; }

    /// <summary>Class label of example i.</summary>
    int LabelOf(int index);

    /// <summary>Fills hidden [tokens·in] and frozenOutput [tokens·out] of example i.</summary>
    void ActivationsOf(int index, float[] hidden, float[] frozenOutput);
}
