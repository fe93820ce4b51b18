using System.Numerics.Tensors;

namespace EdgeLam.Model.Architecture;

/// <summary>Forward and backward of y = x·Wᵀ + b over a batch of rows.</summary>
public static class LinearOperator
{
    /// <summary>output[rows, Out] = input[rows, In]·Wᵀ + b.</summary>
    public static void Forward(LinearWeights weights, ReadOnlySpan<float> input, int rows, Span<float> output)
    {
        MatrixKernels.MultiplyTransposedB(input, weights.W, output, rows, weights.In, weights.Out);
        for (int r = 0; r < rows; r++)
        {
            Span<float> row = output.Slice(r * weights.Out, weights.Out);
            TensorPrimitives.Add(row, weights.B, row);
        }
    }

    /// <summary>
    /// Given dL/dy: adds dL/dx to <paramref name="inputGradient"/> (when not empty) and, when
    /// <paramref name="gradient"/> is given, adds dL/dW and dL/db into it.
    /// </summary>
    public static void Backward(
        LinearWeights weights, ReadOnlySpan<float> input, ReadOnlySpan<float> outputGradient, int rows,
        Span<float> inputGradient, LinearWeights? gradient)
    {
        if (!inputGradient.IsEmpty)
            MatrixKernels.Multiply(outputGradient, weights.W, inputGradient, rows, weights.Out, weights.In, accumulate: true);
        if (gradient is null)
            return;
        MatrixKernels.MultiplyTransposedA(outputGradient, input, gradient.W, rows, weights.Out, weights.In, accumulate: true);
        for (int r = 0; r < rows; r++)
            TensorPrimitives.Add(gradient.B, outputGradient.Slice(r * weights.Out, weights.Out), gradient.B);
    }
}
