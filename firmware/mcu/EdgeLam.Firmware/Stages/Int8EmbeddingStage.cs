using EdgeLam.Contracts.Wire;
using EdgeLam.Firmware.Kernels;
using EdgeLam.Firmware.Memory;
using EdgeLam.Firmware.Quantization;

namespace EdgeLam.Firmware.Stages;

/// <summary>
/// The patch embedding in integer arithmetic only: pixels (row-major image) quantized at the projection's input,
/// rearranged into patches (a permutation of int8 codes), the int8 linear projection with per-channel fixed-point
/// requantization, then the int8 position embedding added with TFLite's int8 ADD. Buffers are allocated at load.
/// </summary>
public sealed class Int8EmbeddingStage : IInferenceStage
{
    private readonly OptimizedInt8LinearKernel projection = new OptimizedInt8LinearKernel();
    private readonly Int8AddKernel positionAdd = new Int8AddKernel();
    private readonly QuantizationParameters input;
    private readonly QuantizationParameters output;
    private readonly sbyte[] position;
    private readonly int[] patchOrder;
    private readonly sbyte[] pixels;
    private readonly sbyte[] patches;
    private readonly sbyte[] tokens;

    /// <summary>Loads an embedding blob and prepares its kernels.</summary>
    public Int8EmbeddingStage(Int8StageBlob blob, RequantizationMode mode)
    {
        if (blob == null)
        {
            throw new System.ArgumentNullException(nameof(blob));
        }

        if (blob.Shape.Kind != StageKind.Embedding)
        {
            throw new System.ArgumentException("Stage " + blob.Shape.StageId + " is not an embedding stage.", nameof(blob));
        }

        Shape = blob.Shape;
        int t = Shape.Tokens;
        int d = Shape.ModelDim;
        patchOrder = PatchOrder(t, Shape.PatchDim, Shape.StageId);
        input = blob.Activation("input");
        QuantizationParameters projected = blob.Activation("projected");
        output = blob.Activation("output");
        QuantizationParameters positionQuantization;
        position = blob.Int8Tensor("position", t * d, out positionQuantization);
        projection.Prepare(blob.Linear("embed", Shape.PatchDim, d), input, projected, mode);
        positionAdd.Prepare(projected, positionQuantization, output);
        pixels = new sbyte[t * Shape.PatchDim];
        patches = new sbyte[t * Shape.PatchDim];
        tokens = new sbyte[t * d];
        MemoryPlan = StageMemoryPlan.ForInt8(Shape, blob.SizeBytes);
    }

    /// <inheritdoc />
    public StageShape Shape { get; }

    /// <inheritdoc />
    public StageMemoryPlan MemoryPlan { get; }

    /// <summary>Quantization of the pixels the projection takes.</summary>
    public QuantizationParameters Input => input;

    /// <summary>Quantization of the output tokens.</summary>
    public QuantizationParameters Output => output;

    /// <summary>Bytes of the activation buffers allocated at load (checked against the static plan).</summary>
    public long ActivationBytes => pixels.Length + patches.Length + tokens.Length;

    /// <summary>int32 scratch bytes of the kernels.</summary>
    public long ScratchBytes => projection.ScratchInt32Count * 4L;

    /// <inheritdoc />
    public TensorFrame Run(TensorFrame frame)
    {
        int images = StageFrames.ImageCount(frame, Shape.InputLength, Shape.StageId);
        int length = Shape.OutputLength;
        var result = new sbyte[images * length];
        for (int image = 0; image < images; image++)
        {
            StageFrames.QuantizeImage(frame, image, Shape.InputLength, input, pixels);
            RunImage(pixels, tokens);
            System.Array.Copy(tokens, 0, result, image * length, length);
        }

        return TensorFrame.FromInt8(result, new int[] { images, Shape.Tokens, Shape.ModelDim }, QuantizationKind.PerTensor, 0, new float[] { output.Scale }, new int[] { output.ZeroPoint });
    }

    /// <summary>One image: int8 pixels [tokens·patchDim] in image order in, int8 tokens [tokens, d] out.</summary>
    public void RunImage(sbyte[] imagePixels, sbyte[] imageTokens)
    {
        for (int i = 0; i < patchOrder.Length; i++)
        {
            patches[i] = imagePixels[patchOrder[i]];
        }

        projection.Eval(patches, 0, Shape.Tokens, imageTokens, 0);
        positionAdd.Eval(imageTokens, 0, position, 0, imageTokens, 0, position.Length);
    }

    /// <summary>
    /// Pixel index of each patch element: patch p = py·S + px, element e = dy·P + dx reads pixel (py·P + dy)·(S·P) + px·P + dx
    /// (single-channel square images, square patches, as the model core's patch extraction).
    /// </summary>
    public static int[] PatchOrder(int tokens, int patchDim, string stageId)
    {
        int side = ExactSquareRoot(tokens);
        int patch = ExactSquareRoot(patchDim);
        if (side < 0 || patch < 0)
        {
            throw new System.ArgumentException("stage " + stageId + ": tokens (" + tokens.ToString() + ") and patch length (" + patchDim.ToString() + ") must be squares of a single-channel square image");
        }

        int size = side * patch;
        var order = new int[tokens * patchDim];
        int index = 0;
        for (int py = 0; py < side; py++)
        {
            for (int px = 0; px < side; px++)
            {
                for (int dy = 0; dy < patch; dy++)
                {
                    for (int dx = 0; dx < patch; dx++)
                    {
                        order[index++] = ((py * patch) + dy) * size + (px * patch) + dx;
                    }
                }
            }
        }

        return order;
    }

    private static int ExactSquareRoot(int value)
    {
        for (int root = 1; root * root <= value; root++)
        {
            if (root * root == value)
            {
                return root;
            }
        }

        return -1;
    }
}
