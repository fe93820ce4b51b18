using System.Numerics.Tensors;

namespace EdgeLam.Model.Architecture;

/// <summary>
/// Scaled dot-product attention over all tokens of each image (Vaswani et al. 2017): per head,
/// softmax(Q·Kᵀ/√headDim)·V. Head h is the contiguous slice [h·headDim, (h+1)·headDim) of ModelDim.
/// Q, K, V and the output are [images, tokens, ModelDim]; probabilities are [images, heads, tokens, tokens].
/// Each head is gathered into contiguous [tokens, headDim] blocks so the products run on the blocked kernels.
/// </summary>
public static class MultiHeadAttention
{
    public static void Forward(
        ReadOnlySpan<float> query, ReadOnlySpan<float> key, ReadOnlySpan<float> value,
        int images, int tokens, int heads, int headDim, Span<float> probabilities, Span<float> output)
    {
        int modelDim = heads * headDim, block = tokens * headDim;
        float scale = 1f / MathF.Sqrt(headDim);
        var scratch = new float[4 * block];
        Span<float> q = scratch.AsSpan(0, block), keyTransposed = scratch.AsSpan(block, block);
        Span<float> v = scratch.AsSpan(2 * block, block), o = scratch.AsSpan(3 * block, block);
        for (int b = 0; b < images; b++)
        {
            int imageOffset = b * tokens * modelDim;
            for (int h = 0; h < heads; h++)
            {
                int headOffset = imageOffset + (h * headDim);
                Gather(query, headOffset, tokens, headDim, modelDim, q);
                Gather(value, headOffset, tokens, headDim, modelDim, v);
                for (int t = 0; t < tokens; t++)
                {
                    for (int d = 0; d < headDim; d++)
                        keyTransposed[(d * tokens) + t] = key[headOffset + (t * modelDim) + d];
                }
                Span<float> p = probabilities.Slice(((b * heads) + h) * tokens * tokens, tokens * tokens);
                MatrixKernels.Multiply(q, keyTransposed, p, tokens, headDim, tokens);
                for (int t = 0; t < tokens; t++)
                {
                    Span<float> row = p.Slice(t * tokens, tokens);
                    TensorPrimitives.Multiply(row, scale, row);
                    Softmax(row);
                }
                MatrixKernels.Multiply(p, v, o, tokens, tokens, headDim);
                Scatter(o, output, headOffset, tokens, headDim, modelDim, accumulate: false);
            }
        }
    }

    /// <summary>Adds dL/dQ, dL/dK, dL/dV given dL/dOutput and the forward probabilities.</summary>
    public static void Backward(
        ReadOnlySpan<float> query, ReadOnlySpan<float> key, ReadOnlySpan<float> value, ReadOnlySpan<float> probabilities,
        ReadOnlySpan<float> outputGradient, int images, int tokens, int heads, int headDim,
        Span<float> queryGradient, Span<float> keyGradient, Span<float> valueGradient)
    {
        int modelDim = heads * headDim, block = tokens * headDim, square = tokens * tokens;
        float scale = 1f / MathF.Sqrt(headDim);
        var scratch = new float[(7 * block) + square];
        Span<float> q = scratch.AsSpan(0, block), k = scratch.AsSpan(block, block), valueTransposed = scratch.AsSpan(2 * block, block);
        Span<float> dOut = scratch.AsSpan(3 * block, block), dQ = scratch.AsSpan(4 * block, block);
        Span<float> dK = scratch.AsSpan(5 * block, block), dV = scratch.AsSpan(6 * block, block);
        Span<float> dScores = scratch.AsSpan(7 * block, square);
        for (int b = 0; b < images; b++)
        {
            int imageOffset = b * tokens * modelDim;
            for (int h = 0; h < heads; h++)
            {
                int headOffset = imageOffset + (h * headDim);
                Gather(query, headOffset, tokens, headDim, modelDim, q);
                Gather(key, headOffset, tokens, headDim, modelDim, k);
                Gather(outputGradient, headOffset, tokens, headDim, modelDim, dOut);
                for (int t = 0; t < tokens; t++)
                {
                    for (int d = 0; d < headDim; d++)
                        valueTransposed[(d * tokens) + t] = value[headOffset + (t * modelDim) + d];
                }
                ReadOnlySpan<float> p = probabilities.Slice(((b * heads) + h) * square, square);
                // dP = dO·Vᵀ, dV = Pᵀ·dO
                MatrixKernels.Multiply(dOut, valueTransposed, dScores, tokens, headDim, tokens);
                MatrixKernels.MultiplyTransposedA(p, dOut, dV, tokens, tokens, headDim);
                // Softmax backward: dS = P ⊙ (dP − Σ P·dP), then the 1/√d scale.
                for (int t = 0; t < tokens; t++)
                {
                    ReadOnlySpan<float> pRow = p.Slice(t * tokens, tokens);
                    Span<float> dRow = dScores.Slice(t * tokens, tokens);
                    float weighted = TensorPrimitives.Dot(pRow, dRow);
                    TensorPrimitives.Subtract(dRow, weighted, dRow);
                    TensorPrimitives.Multiply(dRow, pRow, dRow);
                    TensorPrimitives.Multiply(dRow, scale, dRow);
                }
                // dQ = dS·K, dK = dSᵀ·Q
                MatrixKernels.Multiply(dScores, k, dQ, tokens, tokens, headDim);
                MatrixKernels.MultiplyTransposedA(dScores, q, dK, tokens, tokens, headDim);
                Scatter(dQ, queryGradient, headOffset, tokens, headDim, modelDim, accumulate: true);
                Scatter(dK, keyGradient, headOffset, tokens, headDim, modelDim, accumulate: true);
                Scatter(dV, valueGradient, headOffset, tokens, headDim, modelDim, accumulate: true);
            }
        }
    }

    /// <summary>Numerically stable softmax in place (max subtracted before exp).</summary>
    public static void Softmax(Span<float> values)
    {
        float max = TensorPrimitives.Max(values);
        float sum = 0;
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = MathF.Exp(values[i] - max);
            sum += values[i];
        }
        TensorPrimitives.Multiply(values, 1f / sum, values);
    }

    private static void Gather(ReadOnlySpan<float> source, int headOffset, int tokens, int headDim, int modelDim, Span<float> destination)
    {
        for (int t = 0; t < tokens; t++)
            source.Slice(headOffset + (t * modelDim), headDim).CopyTo(destination.Slice(t * headDim, headDim));
    }

    private static void Scatter(ReadOnlySpan<float> source, Span<float> destination, int headOffset, int tokens, int headDim, int modelDim, bool accumulate)
    {
        for (int t = 0; t < tokens; t++)
        {
            Span<float> target = destination.Slice(headOffset + (t * modelDim), headDim);
            ReadOnlySpan<float> row = source.Slice(t * headDim, headDim);
            if (accumulate)
                TensorPrimitives.Add(target, row, target);
            else
                row.CopyTo(target);
        }
    }
}
