using System.Numerics.Tensors;

namespace EdgeLam.Model.Architecture;

/// <summary>What the head keeps from its forward pass for the backward pass.</summary>
public sealed class ClassifierHeadActivations(TinyVitConfig config, int images)
{
    public int Images { get; } = images;
    public float[] Normalized { get; } = new float[images * config.Tokens * config.ModelDim];
    public float[] InverseStdDev { get; } = new float[images * config.Tokens];
    public float[] NormOutput { get; } = new float[images * config.Tokens * config.ModelDim];
    public float[] Pooled { get; } = new float[images * config.ModelDim];
}

/// <summary>Final LayerNorm, mean over tokens, linear classifier: tokens [images, T, D] → logits [images, Classes].</summary>
public static class ClassifierHead
{
    public static void Forward(TinyVitWeights weights, ReadOnlySpan<float> tokens, int images, Span<float> logits, ClassifierHeadActivations activations)
    {
        TinyVitConfig config = weights.Config;
        int tokenCount = config.Tokens, dim = config.ModelDim;
        LayerNormOperator.Forward(weights.FinalNorm, tokens, images * tokenCount, activations.NormOutput, activations.Normalized, activations.InverseStdDev);
        for (int b = 0; b < images; b++)
        {
            Span<float> pooled = activations.Pooled.AsSpan(b * dim, dim);
            pooled.Clear();
            for (int t = 0; t < tokenCount; t++)
                TensorPrimitives.Add(pooled, activations.NormOutput.AsSpan(((b * tokenCount) + t) * dim, dim), pooled);
            TensorPrimitives.Multiply(pooled, 1f / tokenCount, pooled);
        }
        LinearOperator.Forward(weights.Head, activations.Pooled.AsSpan(0, images * dim), images, logits);
    }

    /// <summary>Writes dL/dtokens into <paramref name="tokenGradient"/>; adds head and final-norm gradients when given.</summary>
    public static void Backward(
        TinyVitWeights weights, ClassifierHeadActivations activations, ReadOnlySpan<float> logitGradient, int images,
        Span<float> tokenGradient, TinyVitWeights? gradient)
    {
        TinyVitConfig config = weights.Config;
        int tokenCount = config.Tokens, dim = config.ModelDim;
        var pooledGradient = new float[images * dim];
        LinearOperator.Backward(weights.Head, activations.Pooled.AsSpan(0, images * dim), logitGradient, images, pooledGradient, gradient?.Head);
        var normGradient = new float[images * tokenCount * dim];
        for (int b = 0; b < images; b++)
        {
            ReadOnlySpan<float> source = pooledGradient.AsSpan(b * dim, dim);
            for (int t = 0; t < tokenCount; t++)
                TensorPrimitives.Multiply(source, 1f / tokenCount, normGradient.AsSpan(((b * tokenCount) + t) * dim, dim));
        }
        tokenGradient[..(images * tokenCount * dim)].Clear();
        LayerNormOperator.Backward(weights.FinalNorm, activations.Normalized, activations.InverseStdDev, normGradient, images * tokenCount, tokenGradient, gradient?.FinalNorm);
    }
}
