using System.Numerics.Tensors;

namespace EdgeLam.Model.Architecture;

/// <summary>
/// Scaled dot-product attention over all tokens of each image (Vaswani et al. 2017): per head,
/// softmax(Q·Kᵀ/√headDim)·V. Head h is the contiguous slice [h·headDim, (h+1)·headDim) of ModelDim.
/// Q, K, V and the output are [images, tokens, ModelDim]; probabilities are [images, heads, tokens, tokens].
/// </summary>
public static class MultiHeadAttention
{
    public static void Forward(
        ReadOnlySpan<float> query, ReadOnlySpan<float> key, ReadOnlySpan<float> value,
        int images, int tokens, int heads, int headDim, Span<float> probabilities, Span<float> output)
    {
        int modelDim = heads * headDim;
        float scale = 1f / MathF.Sqrt(headDim);
        output[..(images * tokens * modelDim)].Clear();
        for (int b = 0; b < images; b++)
        {
            int imageOffset = b * tokens * modelDim;
            for (int h = 0; h < heads; h++)
            {
                int headOffset = imageOffset + (h * headDim);
                for (int t = 0; t < tokens; t++)
                {
                    Span<float> row = probabilities.Slice((((b * heads) + h) * tokens + t) * tokens, tokens);
                    ReadOnlySpan<float> q = query.Slice(headOffset + (t * modelDim), headDim);
                    for (int s = 0; s < tokens; s++)
                        row[s] = TensorPrimitives.Dot(q, key.Slice(headOffset + (s * modelDim), headDim)) * scale;
                    Softmax(row);
                    Span<float> o = output.Slice(headOffset + (t * modelDim), headDim);
                    for (int s = 0; s < tokens; s++)
                        TensorPrimitives.MultiplyAdd(value.Slice(headOffset + (s * modelDim), headDim), row[s], o, o);
                }
            }
        }
    }

    /// <summary>Adds dL/dQ, dL/dK, dL/dV given dL/dOutput and the forward probabilities.</summary>
    public static void Backward(
        ReadOnlySpan<float> query, ReadOnlySpan<float> key, ReadOnlySpan<float> value, ReadOnlySpan<float> probabilities,
        ReadOnlySpan<float> outputGradient, int images, int tokens, int heads, int headDim,
        Span<float> queryGradient, Span<float> keyGradient, Span<float> valueGradient)
    {
        int modelDim = heads * headDim;
        float scale = 1f / MathF.Sqrt(headDim);
        Span<float> scoreGradient = tokens <= 512 ? stackalloc float[tokens] : new float[tokens];
        for (int b = 0; b < images; b++)
        {
            int imageOffset = b * tokens * modelDim;
            for (int h = 0; h < heads; h++)
            {
                int headOffset = imageOffset + (h * headDim);
                for (int t = 0; t < tokens; t++)
                {
                    ReadOnlySpan<float> p = probabilities.Slice((((b * heads) + h) * tokens + t) * tokens, tokens);
                    ReadOnlySpan<float> dOut = outputGradient.Slice(headOffset + (t * modelDim), headDim);
                    for (int s = 0; s < tokens; s++)
                    {
                        int sOffset = headOffset + (s * modelDim);
                        scoreGradient[s] = TensorPrimitives.Dot(dOut, value.Slice(sOffset, headDim));
                        Span<float> dV = valueGradient.Slice(sOffset, headDim);
                        TensorPrimitives.MultiplyAdd(dOut, p[s], dV, dV);
                    }
                    // Softmax backward: dS = P ⊙ (dP − Σ P·dP), then the 1/√d scale.
                    float weighted = TensorPrimitives.Dot(p, scoreGradient);
                    ReadOnlySpan<float> q = query.Slice(headOffset + (t * modelDim), headDim);
                    Span<float> dQ = queryGradient.Slice(headOffset + (t * modelDim), headDim);
                    for (int s = 0; s < tokens; s++)
                    {
                        float dScore = p[s] * (scoreGradient[s] - weighted) * scale;
                        int sOffset = headOffset + (s * modelDim);
                        TensorPrimitives.MultiplyAdd(key.Slice(sOffset, headDim), dScore, dQ, dQ);
                        Span<float> dK = keyGradient.Slice(sOffset, headDim);
                        TensorPrimitives.MultiplyAdd(q, dScore, dK, dK);
                    }
                }
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
}
