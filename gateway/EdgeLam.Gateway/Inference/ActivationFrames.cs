using EdgeLam.Contracts.Wire;
using EdgeLam.Model.Variants;

namespace EdgeLam.Gateway.Inference;

/// <summary>The frame an activation travels in between two stages.</summary>
public static class ActivationFrames
{
    /// <summary>
    /// INT8 (per-tensor asymmetric) when the stage that produced it and the stage that consumes it are both integer
    /// variants, a quarter of the FP32 bytes; FP32 otherwise, so a float stage never sees quantization it was not
    /// measured with.
    /// </summary>
    public static TensorFrame ForNextStage(TensorFrame output, StageVariant? producer, StageVariant consumer)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(consumer);
        var integerLink = producer is not null && producer.Variant.IsQuantized() && consumer.Variant.IsQuantized();
        if (integerLink)
            return output.DataType == TensorDataType.Int8 ? output : TensorFrame.QuantizePerTensor(output.Dequantize(), output.Shape);
        return output.DataType == TensorDataType.Float32 ? output : TensorFrame.FromFloats(output.Dequantize(), output.Shape);
    }
}
