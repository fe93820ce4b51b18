using EdgeLam.Model.Architecture;
using EdgeLam.Model.Variants;

namespace EdgeLam.Model.Quantization;

/// <summary>Runs each dense layer through its integer kernel (quantize input, int8·int8→int32, requantize, dequantize).</summary>
public sealed class QuantizedLinearExecutor(QuantizedTinyVit model) : ILinearExecutor
{
    public void Apply(LinearWeights layer, ReadOnlySpan<float> input, int rows, Span<float> output) =>
        model.For(layer).Forward(input, rows, output);
}
