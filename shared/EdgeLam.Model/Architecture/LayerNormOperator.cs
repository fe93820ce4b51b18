using System.Numerics.Tensors;

namespace EdgeLam.Model.Architecture;

/// <summary>
/// Layer normalization over the last axis (Ba et al. 2016): biased variance, epsilon 1e-5 inside the square
/// root, as ONNX LayerNormalization computes it.
/// </summary>
public static class LayerNormOperator
{
    /// <summary>
    /// output = (x − mean)/√(var + eps)·γ + β per row. When given, <paramref name="normalized"/> receives x̂
    /// and <paramref name="inverseStdDev"/> receives 1/√(var + eps) per row, for the backward pass.
    /// </summary>
    public static void Forward(
        LayerNormWeights weights, ReadOnlySpan<float> input, int rows, Span<float> output,
        Span<float> normalized = default, Span<float> inverseStdDev = default)
    {
        int dim = weights.Dim;
        for (int r = 0; r < rows; r++)
        {
            ReadOnlySpan<float> x = input.Slice(r * dim, dim);
            Span<float> y = output.Slice(r * dim, dim);
            float mean = TensorPrimitives.Sum(x) / dim;
            TensorPrimitives.Subtract(x, mean, y);
            float variance = TensorPrimitives.Dot(y, y) / dim;
            float inverse = 1f / MathF.Sqrt(variance + LayerNormWeights.Epsilon);
            TensorPrimitives.Multiply(y, inverse, y);
            if (!normalized.IsEmpty)
                y.CopyTo(normalized.Slice(r * dim, dim));
            if (!inverseStdDev.IsEmpty)
                inverseStdDev[r] = inverse;
            TensorPrimitives.MultiplyAdd(y, weights.Gamma, weights.Beta, y);
        }
    }

    /// <summary>
    /// Adds dL/dx to <paramref name="inputGradient"/>; adds dL/dγ, dL/dβ into <paramref name="gradient"/> when given.
    /// dx = (1/σ)·(dx̂ − mean(dx̂) − x̂·mean(dx̂·x̂)) with dx̂ = dy·γ.
    /// </summary>
    public static void Backward(
        LayerNormWeights weights, ReadOnlySpan<float> normalized, ReadOnlySpan<float> inverseStdDev,
        ReadOnlySpan<float> outputGradient, int rows, Span<float> inputGradient, LayerNormWeights? gradient)
    {
        int dim = weights.Dim;
        Span<float> normalizedGradient = dim <= 1024 ? stackalloc float[dim] : new float[dim];
        for (int r = 0; r < rows; r++)
        {
            ReadOnlySpan<float> xHat = normalized.Slice(r * dim, dim);
            ReadOnlySpan<float> dy = outputGradient.Slice(r * dim, dim);
            if (gradient is not null)
            {
                TensorPrimitives.MultiplyAdd(dy, xHat, gradient.Gamma, gradient.Gamma);
                TensorPrimitives.Add(gradient.Beta, dy, gradient.Beta);
            }
            TensorPrimitives.Multiply(dy, weights.Gamma, normalizedGradient);
            float meanGradient = TensorPrimitives.Sum(normalizedGradient) / dim;
            float meanProjection = TensorPrimitives.Dot(normalizedGradient, xHat) / dim;
            Span<float> dx = inputGradient.Slice(r * dim, dim);
            float inverse = inverseStdDev[r];
            for (int i = 0; i < dim; i++)
                dx[i] += inverse * (normalizedGradient[i] - meanGradient - (xHat[i] * meanProjection));
        }
    }
}
