using EdgeLam.Model.Architecture;
using EdgeLam.Model.Onnx;

namespace EdgeLam.Model.Variants;

/// <summary>Sees a named float tensor inside the forward: "embed.output", "block{i}.scores" (one query row of one head, after the 1/√dh scale), "block{i}.residual", "block{i}.output", "head.normalized".</summary>
public delegate void ActivationObserver(string point, ReadOnlySpan<float> values);

/// <summary>
/// Inference-only managed forward of each stage, with dense layers delegated to an <see cref="ILinearExecutor"/>:
/// in float it is the FP32 reference, with a quantized executor it is the INT8 reference (integer linears;
/// LayerNorm, softmax, GELU and residual adds in float on dequantized values, as the M/H-tier graphs do),
/// and with a recording executor it calibrates activation ranges. Same graph as <see cref="TinyVitOnnxExporter"/>.
/// </summary>
public sealed class ReferenceStageForward
{
    private readonly TinyVitWeights _weights;
    private readonly ILinearExecutor _linear;
    private readonly ActivationObserver? _observer;

    /// <param name="observer">Optional: sees the activations between dense layers (calibration of the integer-only firmware stages).</param>
    public ReferenceStageForward(TinyVitWeights weights, ILinearExecutor linear, ActivationObserver? observer = null)
    {
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(linear);
        _weights = weights;
        _linear = linear;
        _observer = observer;
    }

    private TinyVitConfig Config => _weights.Config;

    /// <summary>Runs one stage (or the whole model) on <paramref name="batch"/> samples.</summary>
    public float[] Run(ModelStage stage, ReadOnlySpan<float> input, int batch)
    {
        var expected = stage.InputLength(Config) * batch;
        if (input.Length != expected)
            throw new ArgumentException($"Stage {stage} expects {expected} input values for batch {batch}, got {input.Length}.", nameof(input));
        return stage.Kind switch
        {
            ModelStageKind.Embedding => Embed(input, batch),
            ModelStageKind.Block => Block(stage.BlockIndex, input, batch),
            ModelStageKind.Head => Head(input, batch),
            _ => Whole(input, batch),
        };
    }

    private float[] Whole(ReadOnlySpan<float> pixels, int batch)
    {
        var tokens = Embed(pixels, batch);
        for (var i = 0; i < Config.Layers; i++)
            tokens = Block(i, tokens, batch);
        return Head(tokens, batch);
    }

    /// <summary>Patches in row-major patch order, pixels row-major within a patch; then the linear and the position.</summary>
    public float[] Embed(ReadOnlySpan<float> pixels, int batch)
    {
        var c = Config;
        var patches = new float[batch * c.Tokens * c.PatchDim];
        ExtractPatches(c, pixels, batch, patches);
        var tokens = new float[batch * c.Tokens * c.ModelDim];
        _linear.Apply(_weights.PatchEmbedding, patches, batch * c.Tokens, tokens);
        for (var b = 0; b < batch; b++)
            System.Numerics.Tensors.TensorPrimitives.Add(tokens.AsSpan(b * c.Tokens * c.ModelDim, c.Tokens * c.ModelDim), _weights.Position, tokens.AsSpan(b * c.Tokens * c.ModelDim, c.Tokens * c.ModelDim));
        _observer?.Invoke("embed.output", tokens);
        return tokens;
    }

    /// <summary>patch p = py·S + px; element (dy·P + dx) = pixel[(py·P + dy)·ImageSize + px·P + dx].</summary>
    public static void ExtractPatches(TinyVitConfig config, ReadOnlySpan<float> pixels, int batch, Span<float> patches)
    {
        ArgumentNullException.ThrowIfNull(config);
        if (config.Channels != 1)
            throw new NotSupportedException($"Patch extraction is defined for single-channel images; the configuration has {config.Channels} channels.");
        int p = config.PatchSize, side = config.PatchesPerSide, size = config.ImageSize;
        var index = 0;
        for (var b = 0; b < batch; b++)
        {
            var image = pixels.Slice(b * config.PixelsPerImage, config.PixelsPerImage);
            for (var py = 0; py < side; py++)
            for (var px = 0; px < side; px++)
            for (var dy = 0; dy < p; dy++)
            for (var dx = 0; dx < p; dx++)
                patches[index++] = image[(py * p + dy) * size + px * p + dx];
        }
    }

    public float[] Block(int blockIndex, ReadOnlySpan<float> input, int batch)
    {
        var c = Config;
        var block = _weights.Blocks[blockIndex];
        var rows = batch * c.Tokens;
        int d = c.ModelDim, mlp = block.Fc1.Out;

        var x = input.ToArray();
        var normed = new float[rows * d];
        LayerNorm(x, block.Ln1, rows, normed);
        var q = new float[rows * d];
        var k = new float[rows * d];
        var v = new float[rows * d];
        _linear.Apply(block.Query, normed, rows, q);
        _linear.Apply(block.Key, normed, rows, k);
        _linear.Apply(block.Value, normed, rows, v);
        var attended = new float[rows * d];
        Attention(c, q, k, v, batch, attended, _observer is null ? null : (_observer, $"block{blockIndex}.scores"));
        var projected = new float[rows * d];
        _linear.Apply(block.Output, attended, rows, projected);
        System.Numerics.Tensors.TensorPrimitives.Add(x, projected, x);
        _observer?.Invoke($"block{blockIndex}.residual", x);

        LayerNorm(x, block.Ln2, rows, normed);
        var hidden = new float[rows * mlp];
        _linear.Apply(block.Fc1, normed, rows, hidden);
        for (var i = 0; i < hidden.Length; i++)
            hidden[i] = Gelu(hidden[i]);
        var mlpOut = new float[rows * d];
        _linear.Apply(block.Fc2, hidden, rows, mlpOut);
        System.Numerics.Tensors.TensorPrimitives.Add(x, mlpOut, x);
        _observer?.Invoke($"block{blockIndex}.output", x);
        return x;
    }

    public float[] Head(ReadOnlySpan<float> input, int batch)
    {
        var c = Config;
        var rows = batch * c.Tokens;
        var normed = new float[rows * c.ModelDim];
        LayerNorm(input, _weights.FinalNorm, rows, normed);
        _observer?.Invoke("head.normalized", normed);
        var pooled = new float[batch * c.ModelDim];
        for (var b = 0; b < batch; b++)
        {
            var target = pooled.AsSpan(b * c.ModelDim, c.ModelDim);
            for (var t = 0; t < c.Tokens; t++)
                System.Numerics.Tensors.TensorPrimitives.Add(target, normed.AsSpan((b * c.Tokens + t) * c.ModelDim, c.ModelDim), target);
            System.Numerics.Tensors.TensorPrimitives.Multiply(target, 1f / c.Tokens, target);
        }
        var logits = new float[batch * c.Classes];
        _linear.Apply(_weights.Head, pooled, batch, logits);
        return logits;
    }

    private static void LayerNorm(ReadOnlySpan<float> x, LayerNormWeights norm, int rows, Span<float> output)
    {
        var dim = norm.Dim;
        for (var r = 0; r < rows; r++)
        {
            var row = x.Slice(r * dim, dim);
            var mean = 0f;
            foreach (var value in row)
                mean += value;
            mean /= dim;
            var variance = 0f;
            foreach (var value in row)
                variance += (value - mean) * (value - mean);
            variance /= dim;
            var inverse = 1f / MathF.Sqrt(variance + LayerNormWeights.Epsilon);
            for (var i = 0; i < dim; i++)
                output[r * dim + i] = (row[i] - mean) * inverse * norm.Gamma[i] + norm.Beta[i];
        }
    }

    /// <summary>softmax(Q·Kᵀ/√dh)·V per head; head h is the contiguous slice [h·dh, (h+1)·dh) of the model dimension.</summary>
    private static void Attention(TinyVitConfig c, float[] q, float[] k, float[] v, int batch, float[] output, (ActivationObserver Observer, string Point)? scoresObserver = null)
    {
        int tokens = c.Tokens, d = c.ModelDim, dh = c.HeadDim;
        var scale = 1f / MathF.Sqrt(dh);
        var scores = new float[tokens];
        for (var b = 0; b < batch; b++)
        for (var h = 0; h < c.Heads; h++)
        for (var t = 0; t < tokens; t++)
        {
            var query = q.AsSpan((b * tokens + t) * d + h * dh, dh);
            for (var s = 0; s < tokens; s++)
                scores[s] = System.Numerics.Tensors.TensorPrimitives.Dot(query, k.AsSpan((b * tokens + s) * d + h * dh, dh)) * scale;
            if (scoresObserver is { } observe) observe.Observer(observe.Point, scores);
            System.Numerics.Tensors.TensorPrimitives.SoftMax(scores, scores);
            var target = output.AsSpan((b * tokens + t) * d + h * dh, dh);
            target.Clear();
            for (var s = 0; s < tokens; s++)
                System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(v.AsSpan((b * tokens + s) * d + h * dh, dh), scores[s], target, target);
        }
    }

    /// <summary>The exact (erf) GELU the model core trains with.</summary>
    private static float Gelu(float x) => Architecture.Gelu.Apply(x);
}
