using EdgeLam.Model.Architecture;

namespace EdgeLam.Model.Variants;

/// <summary>How a dense layer of the reference forward is executed: in float, quantized, or observed for calibration.</summary>
public interface ILinearExecutor
{
    /// <summary>y[r, :] = layer(x[r, :]) for <paramref name="rows"/> rows; x is [rows, In], y is [rows, Out].</summary>
    void Apply(LinearWeights layer, ReadOnlySpan<float> input, int rows, Span<float> output);
}

/// <summary>Plain float y = x·Wᵀ + b.</summary>
public sealed class FloatLinearExecutor : ILinearExecutor
{
    public static FloatLinearExecutor Instance { get; } = new();

    public void Apply(LinearWeights layer, ReadOnlySpan<float> input, int rows, Span<float> output)
    {
        ArgumentNullException.ThrowIfNull(layer);
        for (var r = 0; r < rows; r++)
        {
            var x = input.Slice(r * layer.In, layer.In);
            for (var o = 0; o < layer.Out; o++)
                output[r * layer.Out + o] = System.Numerics.Tensors.TensorPrimitives.Dot(x, layer.W.AsSpan(o * layer.In, layer.In)) + layer.B[o];
        }
    }
}
