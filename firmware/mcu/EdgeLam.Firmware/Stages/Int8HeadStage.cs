using EdgeLam.Contracts.Wire;
using EdgeLam.Firmware.Kernels;
using EdgeLam.Firmware.Memory;
using EdgeLam.Firmware.Quantization;

namespace EdgeLam.Firmware.Stages;

/// <summary>
/// The classifier head in integer arithmetic only: int8 LayerNorm per token, mean over tokens as an int32 sum with
/// rounded division (same scale and zero point as the normalized tokens, or, when the blob has "quant.pooled", the
/// int32 sum requantized to that quantization with one fixed-point multiplier s_norm / (T·s_pooled)), then the int8
/// linear layer with fixed-point requantization (TFLite / CMSIS-NN scheme). Buffers are allocated once at load.
/// </summary>
public sealed class Int8HeadStage : IInferenceStage
{
    private readonly Int8LayerNormKernel norm = new Int8LayerNormKernel();
    private readonly OptimizedInt8LinearKernel classifier = new OptimizedInt8LinearKernel();
    private readonly QuantizationParameters input;
    private readonly QuantizationParameters normalized;
    private readonly QuantizationParameters logits;
    private readonly QuantizationParameters pooledQuantization;
    private readonly bool requantizesPool;
    private readonly int poolMultiplier;
    private readonly int poolShift;
    private readonly sbyte[] tokens;
    private readonly sbyte[] normalizedTokens;
    private readonly sbyte[] pooled;
    private readonly sbyte[] output;

    /// <summary>Loads a head blob and prepares its kernels.</summary>
    public Int8HeadStage(Int8StageBlob blob, RequantizationMode mode)
    {
        if (blob == null)
        {
            throw new System.ArgumentNullException(nameof(blob));
        }

        if (blob.Shape.Kind != StageKind.Head)
        {
            throw new System.ArgumentException("Stage " + blob.Shape.StageId + " is not a head stage.", nameof(blob));
        }

        Shape = blob.Shape;
        int d = Shape.ModelDim;
        input = blob.Activation("input");
        normalized = blob.Activation("normalized");
        logits = blob.Activation("logits");
        requantizesPool = blob.Bundle.Find("quant.pooled") != null;
        pooledQuantization = requantizesPool ? blob.Activation("pooled") : normalized;
        if (requantizesPool)
        {
            FixedPointArithmetic.QuantizeMultiplier(normalized.Scale / ((double)Shape.Tokens * pooledQuantization.Scale), out poolMultiplier, out poolShift);
        }

        norm.Prepare(blob.FloatVector("norm.gamma", d), blob.FloatVector("norm.beta", d), Int8EncoderBlockStage.LayerNormEpsilon, input, normalized);
        classifier.Prepare(blob.Linear("head", d, Shape.Classes), pooledQuantization, logits, mode);
        tokens = new sbyte[Shape.Tokens * d];
        normalizedTokens = new sbyte[Shape.Tokens * d];
        pooled = new sbyte[d];
        output = new sbyte[Shape.Classes];
        MemoryPlan = StageMemoryPlan.ForInt8(Shape, blob.SizeBytes);
    }

    /// <inheritdoc />
    public StageShape Shape { get; }

    /// <inheritdoc />
    public StageMemoryPlan MemoryPlan { get; }

    /// <summary>Quantization of the logits.</summary>
    public QuantizationParameters Logits => logits;

    /// <summary>Quantization of the input tokens.</summary>
    public QuantizationParameters Input => input;

    /// <summary>Bytes of the activation buffers allocated at load (checked against the static plan).</summary>
    public long ActivationBytes => tokens.Length + normalizedTokens.Length + pooled.Length + output.Length;

    /// <summary>int32 scratch bytes of the classifier.</summary>
    public long ScratchBytes => classifier.ScratchInt32Count * 4L;

    /// <inheritdoc />
    public TensorFrame Run(TensorFrame frame)
    {
        int images = StageFrames.ImageCount(frame, Shape.InputLength, Shape.StageId);
        var result = new sbyte[images * Shape.Classes];
        for (int image = 0; image < images; image++)
        {
            StageFrames.QuantizeImage(frame, image, Shape.InputLength, input, tokens);
            RunImage(tokens, output);
            System.Array.Copy(output, 0, result, image * Shape.Classes, Shape.Classes);
        }

        return TensorFrame.FromInt8(result, new int[] { images, Shape.Classes }, QuantizationKind.PerTensor, 0, new float[] { logits.Scale }, new int[] { logits.ZeroPoint });
    }

    /// <summary>One image: int8 tokens [tokens, d] in, int8 logits [classes] out.</summary>
    public void RunImage(sbyte[] imageTokens, sbyte[] imageLogits)
    {
        int d = Shape.ModelDim;
        int count = Shape.Tokens;
        norm.Eval(imageTokens, 0, count, normalizedTokens, 0);
        int zero = normalized.ZeroPoint;
        for (int c = 0; c < d; c++)
        {
            int sum = 0;
            for (int t = 0; t < count; t++)
            {
                sum += normalizedTokens[(t * d) + c] - zero;
            }

            if (requantizesPool)
            {
                pooled[c] = FixedPointArithmetic.SaturateToInt8(FixedPointArithmetic.MultiplyByQuantizedMultiplier(sum, poolMultiplier, poolShift) + pooledQuantization.ZeroPoint);
                continue;
            }

            // Rounded division, half away from zero, keeps the mean at the normalized tokens' scale.
            int mean = sum >= 0 ? (sum + (count / 2)) / count : -((-sum + (count / 2)) / count);
            pooled[c] = FixedPointArithmetic.SaturateToInt8(mean + zero);
        }

        classifier.Eval(pooled, 0, 1, imageLogits, 0);
    }
}
