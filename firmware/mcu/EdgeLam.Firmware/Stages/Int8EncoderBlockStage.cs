using EdgeLam.Contracts.Wire;
using EdgeLam.Firmware.Kernels;
using EdgeLam.Firmware.Memory;
using EdgeLam.Firmware.Quantization;

namespace EdgeLam.Firmware.Stages;

/// <summary>
/// One pre-norm encoder block in integer arithmetic only (x += Attn(LN1(x)); x += Fc2(GELU(Fc1(LN2(x))))):
/// integer LayerNorm, int8 Q/K/V linears, per head Q·Kᵀ (int8 × int8 → int8 scores), integer softmax with
/// β = 1/√d_head, P·V, the output linear, int8 residual add, integer LayerNorm, fc1, GELU lookup, fc2, residual add.
/// A linear whose blob carries a block mask ("{layer}.keptBlocks") runs the structured-sparse kernel, skipping its
/// pruned blocks. Every buffer is allocated once at load; residual adds and GELU run in place.
/// </summary>
public sealed class Int8EncoderBlockStage : IInferenceStage
{
    private readonly Int8LayerNormKernel norm1 = new Int8LayerNormKernel();
    private readonly Int8LayerNormKernel norm2 = new Int8LayerNormKernel();
    private readonly IInt8LinearKernel query;
    private readonly IInt8LinearKernel key;
    private readonly IInt8LinearKernel value;
    private readonly IInt8LinearKernel projection;
    private readonly IInt8LinearKernel expand;
    private readonly IInt8LinearKernel contract;
    private readonly Int8MatMulKernel scores = new Int8MatMulKernel();
    private readonly Int8SoftmaxKernel softmax = new Int8SoftmaxKernel();
    private readonly Int8MatMulKernel weightedSum = new Int8MatMulKernel();
    private readonly Int8AddKernel attentionResidual = new Int8AddKernel();
    private readonly Int8GeluLookupKernel gelu = new Int8GeluLookupKernel();
    private readonly Int8AddKernel mlpResidual = new Int8AddKernel();
    private readonly QuantizationParameters input;
    private readonly QuantizationParameters output;
    private readonly sbyte[] stream;
    private readonly sbyte[] normalized;
    private readonly sbyte[] queries;
    private readonly sbyte[] keys;
    private readonly sbyte[] values;
    private readonly sbyte[] context;
    private readonly sbyte[] branch;
    private readonly sbyte[] hidden;
    private readonly sbyte[] headScores;
    private readonly sbyte[] headProbabilities;

    /// <summary>Loads a block blob and prepares its kernels.</summary>
    public Int8EncoderBlockStage(Int8StageBlob blob, RequantizationMode mode)
    {
        if (blob == null)
        {
            throw new System.ArgumentNullException(nameof(blob));
        }

        if (blob.Shape.Kind != StageKind.Block)
        {
            throw new System.ArgumentException("Stage " + blob.Shape.StageId + " is not an encoder block.", nameof(blob));
        }

        Shape = blob.Shape;
        int t = Shape.Tokens;
        int d = Shape.ModelDim;
        int m = Shape.MlpDim;
        int headDim = d / Shape.Heads;
        input = blob.Activation("input");
        QuantizationParameters ln1 = blob.Activation("ln1");
        QuantizationParameters q = blob.Activation("q");
        QuantizationParameters k = blob.Activation("k");
        QuantizationParameters v = blob.Activation("v");
        QuantizationParameters scoreQuantization = blob.Activation("scores");
        QuantizationParameters contextQuantization = blob.Activation("context");
        QuantizationParameters attention = blob.Activation("attention");
        QuantizationParameters residual = blob.Activation("residual");
        QuantizationParameters ln2 = blob.Activation("ln2");
        QuantizationParameters fc1 = blob.Activation("fc1");
        QuantizationParameters geluQuantization = blob.Activation("gelu");
        QuantizationParameters fc2 = blob.Activation("fc2");
        output = blob.Activation("output");

        norm1.Prepare(blob.FloatVector("ln1.gamma", d), blob.FloatVector("ln1.beta", d), LayerNormEpsilon, input, ln1);
        query = LinearFor(blob, "q", d, d, ln1, q, mode);
        key = LinearFor(blob, "k", d, d, ln1, k, mode);
        value = LinearFor(blob, "v", d, d, ln1, v, mode);
        scores.Prepare(q, k, scoreQuantization, t, headDim, t, true, mode);
        softmax.Prepare(scoreQuantization, t, 1.0 / PortableMath.SquareRoot(headDim));
        weightedSum.Prepare(Int8SoftmaxKernel.OutputQuantization, v, contextQuantization, t, t, headDim, false, mode);
        projection = LinearFor(blob, "o", d, d, contextQuantization, attention, mode);
        attentionResidual.Prepare(input, attention, residual);
        norm2.Prepare(blob.FloatVector("ln2.gamma", d), blob.FloatVector("ln2.beta", d), LayerNormEpsilon, residual, ln2);
        expand = LinearFor(blob, "fc1", d, m, ln2, fc1, mode);
        gelu.Prepare(fc1, geluQuantization);
        contract = LinearFor(blob, "fc2", m, d, geluQuantization, fc2, mode);
        mlpResidual.Prepare(residual, fc2, output);

        stream = new sbyte[t * d];
        normalized = new sbyte[t * d];
        queries = new sbyte[t * d];
        keys = new sbyte[t * d];
        values = new sbyte[t * d];
        context = new sbyte[t * d];
        branch = new sbyte[t * d];
        hidden = new sbyte[t * m];
        headScores = new sbyte[t * t];
        headProbabilities = new sbyte[t * t];
        MemoryPlan = StageMemoryPlan.ForInt8(Shape, blob.SizeBytes);
    }

    /// <summary>ε of the model's LayerNorm (PyTorch's default).</summary>
    public const double LayerNormEpsilon = 1e-5;

    /// <inheritdoc />
    public StageShape Shape { get; }

    /// <inheritdoc />
    public StageMemoryPlan MemoryPlan { get; }

    /// <summary>Quantization of the input tokens.</summary>
    public QuantizationParameters Input => input;

    /// <summary>Quantization of the output tokens.</summary>
    public QuantizationParameters Output => output;

    /// <summary>Whether the MLP runs structured-sparse kernels (a Pruned-INT8 blob with block masks).</summary>
    public bool SkipsPrunedBlocks => expand is OptimizedSparseInt8LinearKernel || contract is OptimizedSparseInt8LinearKernel;

    /// <summary>Bytes of the activation buffers allocated at load (checked against the static plan).</summary>
    public long ActivationBytes => stream.Length + normalized.Length + queries.Length + keys.Length + values.Length + context.Length + branch.Length + hidden.Length + headScores.Length + headProbabilities.Length;

    /// <summary>int32 scratch bytes of the linear kernels.</summary>
    public long ScratchBytes => 4L * (query.ScratchInt32Count + key.ScratchInt32Count + value.ScratchInt32Count + projection.ScratchInt32Count + expand.ScratchInt32Count + contract.ScratchInt32Count);

    /// <inheritdoc />
    public TensorFrame Run(TensorFrame frame)
    {
        int images = StageFrames.ImageCount(frame, Shape.InputLength, Shape.StageId);
        int length = Shape.OutputLength;
        var result = new sbyte[images * length];
        for (int image = 0; image < images; image++)
        {
            StageFrames.QuantizeImage(frame, image, Shape.InputLength, input, stream);
            RunImage(stream);
            System.Array.Copy(stream, 0, result, image * length, length);
        }

        return TensorFrame.FromInt8(result, new int[] { images, Shape.Tokens, Shape.ModelDim }, QuantizationKind.PerTensor, 0, new float[] { output.Scale }, new int[] { output.ZeroPoint });
    }

    /// <summary>One image in place: int8 tokens [tokens, d] at the input quantization become the block's output tokens.</summary>
    public void RunImage(sbyte[] tokens)
    {
        int t = Shape.Tokens;
        int d = Shape.ModelDim;
        int count = t * d;
        int headDim = d / Shape.Heads;
        norm1.Eval(tokens, 0, t, normalized, 0);
        query.Eval(normalized, 0, t, queries, 0);
        key.Eval(normalized, 0, t, keys, 0);
        value.Eval(normalized, 0, t, values, 0);
        for (int h = 0; h < Shape.Heads; h++)
        {
            // Head h is the column slice [h·dh, (h+1)·dh) of Q, K, V and the context, addressed by row stride d.
            int column = h * headDim;
            scores.Eval(queries, column, d, keys, column, d, headScores, 0, t);
            softmax.Eval(headScores, 0, t, headProbabilities, 0);
            weightedSum.Eval(headProbabilities, 0, t, values, column, d, context, column, d);
        }

        projection.Eval(context, 0, t, branch, 0);
        attentionResidual.Eval(tokens, 0, branch, 0, tokens, 0, count);
        norm2.Eval(tokens, 0, t, normalized, 0);
        expand.Eval(normalized, 0, t, hidden, 0);
        gelu.Eval(hidden, 0, hidden, 0, hidden.Length);
        contract.Eval(hidden, 0, t, branch, 0);
        mlpResidual.Eval(tokens, 0, branch, 0, tokens, 0, count);
    }

    private static IInt8LinearKernel LinearFor(Int8StageBlob blob, string layer, int inFeatures, int outFeatures, QuantizationParameters layerInput, QuantizationParameters layerOutput, RequantizationMode mode)
    {
        QuantizedLinearWeights weights = blob.Linear(layer, inFeatures, outFeatures);
        IInt8LinearKernel kernel;
        StructuredSparsityMask? mask = blob.BlockMask(layer, weights);
        if (mask != null)
        {
            weights.ApplySparsity(mask);
            kernel = new OptimizedSparseInt8LinearKernel();
        }
        else
        {
            kernel = new OptimizedInt8LinearKernel();
        }

        kernel.Prepare(weights, layerInput, layerOutput, mode);
        return kernel;
    }
}
