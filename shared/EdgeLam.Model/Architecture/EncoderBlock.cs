using System.Numerics.Tensors;
using EdgeLam.Model.Lora;

namespace EdgeLam.Model.Architecture;

/// <summary>Buffers of one encoder block's forward pass, kept for its backward pass.</summary>
public sealed class EncoderBlockActivations
{
    public EncoderBlockActivations(TinyVitConfig config, int images, int loraRank = 0)
    {
        Images = images;
        int rows = images * config.Tokens, dim = config.ModelDim;
        Ln1Normalized = new float[rows * dim];
        Ln1InverseStdDev = new float[rows];
        Ln1Output = new float[rows * dim];
        Query = new float[rows * dim];
        Key = new float[rows * dim];
        Value = new float[rows * dim];
        Probabilities = new float[images * config.Heads * config.Tokens * config.Tokens];
        AttentionOutput = new float[rows * dim];
        Ln2Normalized = new float[rows * dim];
        Ln2InverseStdDev = new float[rows];
        Ln2Output = new float[rows * dim];
        Fc1Output = new float[rows * config.MlpDim];
        GeluOutput = new float[rows * config.MlpDim];
        ProjectionScratch = new float[rows * dim];
        LowRank = new float[LoraProjections.All.Count][];
        for (int i = 0; i < LowRank.Length; i++)
            LowRank[i] = new float[rows * loraRank];
    }

    public int Images { get; }
    public float[] Ln1Normalized { get; }
    public float[] Ln1InverseStdDev { get; }
    public float[] Ln1Output { get; }
    public float[] Query { get; }
    public float[] Key { get; }
    public float[] Value { get; }
    public float[] Probabilities { get; }
    /// <summary>Attention result before the output projection.</summary>
    public float[] AttentionOutput { get; }
    public float[] Ln2Normalized { get; }
    public float[] Ln2InverseStdDev { get; }
    public float[] Ln2Output { get; }
    /// <summary>fc1 result before GELU.</summary>
    public float[] Fc1Output { get; }
    public float[] GeluOutput { get; }
    internal float[] ProjectionScratch { get; }
    internal BackwardBuffers Backward => _backward ??= new BackwardBuffers(ProjectionScratch.Length, GeluOutput.Length);
    private BackwardBuffers? _backward;

    /// <summary>Gradient buffers reused by every backward pass through this block (large arrays are not reallocated per step).</summary>
    internal sealed class BackwardBuffers(int tokenValues, int hiddenValues)
    {
        public float[] Residual { get; } = new float[tokenValues];
        public float[] Gelu { get; } = new float[hiddenValues];
        public float[] Fc1 { get; } = new float[hiddenValues];
        public float[] Ln2 { get; } = new float[tokenValues];
        public float[] Attention { get; } = new float[tokenValues];
        public float[] Query { get; } = new float[tokenValues];
        public float[] Key { get; } = new float[tokenValues];
        public float[] Value { get; } = new float[tokenValues];
        public float[] Ln1 { get; } = new float[tokenValues];
    }
    /// <summary>Per projection (q, k, v, o, fc1, fc2), input·Aᵀ of its LoRA adapter [rows, rank].</summary>
    public float[][] LowRank { get; }
}

/// <summary>
/// Pre-norm transformer encoder block (Xiong et al. 2020): x1 = x + O(Attn(LN1(x))), y = x1 + Fc2(GELU(Fc1(LN2(x1)))),
/// with optional LoRA adapters added to any of the six projections.
/// </summary>
public static class EncoderBlock
{
    private const int Q = 0, K = 1, V = 2, O = 3, Fc1 = 4, Fc2 = 5;

    public static void Forward(
        TinyVitConfig config, EncoderBlockWeights weights, LoraAdapterSet? adapters, int layer,
        ReadOnlySpan<float> input, int images, Span<float> output, EncoderBlockActivations activations)
    {
        int rows = images * config.Tokens, dim = config.ModelDim;
        Span<float> x1 = output[..(rows * dim)];
        LayerNormOperator.Forward(weights.Ln1, input, rows, activations.Ln1Output, activations.Ln1Normalized, activations.Ln1InverseStdDev);
        Project(weights.Query, adapters?.Find(layer, Q), activations.Ln1Output, rows, activations.Query, activations.LowRank[Q]);
        Project(weights.Key, adapters?.Find(layer, K), activations.Ln1Output, rows, activations.Key, activations.LowRank[K]);
        Project(weights.Value, adapters?.Find(layer, V), activations.Ln1Output, rows, activations.Value, activations.LowRank[V]);
        MultiHeadAttention.Forward(activations.Query, activations.Key, activations.Value, images, config.Tokens, config.Heads, config.HeadDim, activations.Probabilities, activations.AttentionOutput);
        Project(weights.Output, adapters?.Find(layer, O), activations.AttentionOutput, rows, activations.ProjectionScratch, activations.LowRank[O]);
        TensorPrimitives.Add(input[..(rows * dim)], activations.ProjectionScratch.AsSpan(0, rows * dim), x1);

        LayerNormOperator.Forward(weights.Ln2, x1, rows, activations.Ln2Output, activations.Ln2Normalized, activations.Ln2InverseStdDev);
        Project(weights.Fc1, adapters?.Find(layer, Fc1), activations.Ln2Output, rows, activations.Fc1Output, activations.LowRank[Fc1]);
        Gelu.Forward(activations.Fc1Output.AsSpan(0, rows * config.MlpDim), activations.GeluOutput);
        Project(weights.Fc2, adapters?.Find(layer, Fc2), activations.GeluOutput, rows, activations.ProjectionScratch, activations.LowRank[Fc2]);
        TensorPrimitives.Add(x1, activations.ProjectionScratch.AsSpan(0, rows * dim), x1);
    }

    /// <summary>
    /// Writes dL/dinput into <paramref name="inputGradient"/> given dL/doutput. Base-weight gradients are added
    /// to <paramref name="weightGradient"/> and adapter gradients to <paramref name="adapterGradient"/> when given.
    /// </summary>
    public static void Backward(
        TinyVitConfig config, EncoderBlockWeights weights, LoraAdapterSet? adapters, int layer,
        EncoderBlockActivations activations, ReadOnlySpan<float> outputGradient, int images, Span<float> inputGradient,
        EncoderBlockWeights? weightGradient, LoraAdapterSet? adapterGradient)
    {
        int rows = images * config.Tokens, dim = config.ModelDim, mlp = config.MlpDim;
        EncoderBlockActivations.BackwardBuffers buffers = activations.Backward;
        Span<float> residualGradient = buffers.Residual.AsSpan(0, rows * dim);
        outputGradient[..(rows * dim)].CopyTo(residualGradient);

        Span<float> geluGradient = Cleared(buffers.Gelu, rows * mlp);
        ProjectBackward(weights.Fc2, adapters?.Find(layer, Fc2), adapterGradient?.Find(layer, Fc2), activations.GeluOutput, activations.LowRank[Fc2], outputGradient, rows, geluGradient, weightGradient?.Fc2);
        Span<float> fc1Gradient = buffers.Fc1.AsSpan(0, rows * mlp);
        Gelu.Backward(activations.Fc1Output.AsSpan(0, rows * mlp), geluGradient, fc1Gradient);
        Span<float> ln2Gradient = Cleared(buffers.Ln2, rows * dim);
        ProjectBackward(weights.Fc1, adapters?.Find(layer, Fc1), adapterGradient?.Find(layer, Fc1), activations.Ln2Output, activations.LowRank[Fc1], fc1Gradient, rows, ln2Gradient, weightGradient?.Fc1);
        LayerNormOperator.Backward(weights.Ln2, activations.Ln2Normalized, activations.Ln2InverseStdDev, ln2Gradient, rows, residualGradient, weightGradient?.Ln2);

        Span<float> attentionGradient = Cleared(buffers.Attention, rows * dim);
        ProjectBackward(weights.Output, adapters?.Find(layer, O), adapterGradient?.Find(layer, O), activations.AttentionOutput, activations.LowRank[O], residualGradient, rows, attentionGradient, weightGradient?.Output);
        Span<float> queryGradient = Cleared(buffers.Query, rows * dim);
        Span<float> keyGradient = Cleared(buffers.Key, rows * dim);
        Span<float> valueGradient = Cleared(buffers.Value, rows * dim);
        MultiHeadAttention.Backward(activations.Query, activations.Key, activations.Value, activations.Probabilities, attentionGradient, images, config.Tokens, config.Heads, config.HeadDim, queryGradient, keyGradient, valueGradient);
        Span<float> ln1Gradient = Cleared(buffers.Ln1, rows * dim);
        ProjectBackward(weights.Query, adapters?.Find(layer, Q), adapterGradient?.Find(layer, Q), activations.Ln1Output, activations.LowRank[Q], queryGradient, rows, ln1Gradient, weightGradient?.Query);
        ProjectBackward(weights.Key, adapters?.Find(layer, K), adapterGradient?.Find(layer, K), activations.Ln1Output, activations.LowRank[K], keyGradient, rows, ln1Gradient, weightGradient?.Key);
        ProjectBackward(weights.Value, adapters?.Find(layer, V), adapterGradient?.Find(layer, V), activations.Ln1Output, activations.LowRank[V], valueGradient, rows, ln1Gradient, weightGradient?.Value);

        residualGradient.CopyTo(inputGradient);
        LayerNormOperator.Backward(weights.Ln1, activations.Ln1Normalized, activations.Ln1InverseStdDev, ln1Gradient, rows, inputGradient, weightGradient?.Ln1);
    }

    private static Span<float> Cleared(float[] buffer, int length)
    {
        Span<float> span = buffer.AsSpan(0, length);
        span.Clear();
        return span;
    }

    private static void Project(LinearWeights linear, LoraAdapter? adapter, ReadOnlySpan<float> input, int rows, Span<float> output, Span<float> lowRank)
    {
        LinearOperator.Forward(linear, input, rows, output);
        adapter?.Forward(input, rows, output, lowRank);
    }

    private static void ProjectBackward(
        LinearWeights linear, LoraAdapter? adapter, LoraAdapter? adapterGradient, ReadOnlySpan<float> input, ReadOnlySpan<float> lowRank,
        ReadOnlySpan<float> outputGradient, int rows, Span<float> inputGradient, LinearWeights? linearGradient)
    {
        LinearOperator.Backward(linear, input, outputGradient, rows, inputGradient, linearGradient);
        adapter?.Backward(input, lowRank, outputGradient, rows, inputGradient, adapterGradient);
    }
}
