using EdgeLam.Contracts.Wire;
using EdgeLam.Firmware.Memory;
using EdgeLam.Firmware.Quantization;

namespace EdgeLam.Firmware.Stages;

/// <summary>
/// The INT8 stage blob a deployment carries: a tensor bundle (WIRE.md frame format) whose JSON header names the stage
/// and its shape — {"format":"edgelam-int8-stage","version":1,"stageId":"head","kind":"head","tokens":16,
/// "modelDim":64,"heads":4,"mlpDim":128,"patchDim":49,"classes":10} — and whose frames hold int8 per-channel
/// weights ("{layer}.weight"), int32 biases ("{layer}.bias"), float LayerNorm parameters, and one float32 [2]
/// frame "quant.{point}" = (scale, zero point) per activation tensor.
/// </summary>
public sealed class Int8StageBlob
{
    /// <summary>Value of the header's format field.</summary>
    public const string Format = "edgelam-int8-stage";

    /// <summary>Version of the blob layout.</summary>
    public const int Version = 1;

    private Int8StageBlob(StageShape shape, TensorBundle bundle, int sizeBytes)
    {
        Shape = shape;
        Bundle = bundle;
        SizeBytes = sizeBytes;
    }

    /// <summary>The stage's shape from the header.</summary>
    public StageShape Shape { get; }

    /// <summary>The decoded bundle.</summary>
    public TensorBundle Bundle { get; }

    /// <summary>Encoded size in bytes.</summary>
    public int SizeBytes { get; }

    /// <summary>Decodes and checks a blob; any defect is a <see cref="WireFormatException"/> naming the field.</summary>
    public static Int8StageBlob Decode(byte[] data)
    {
        TensorBundle bundle = TensorBundleCodec.Decode(data);
        var header = bundle.Header;
        if (header.GetString("format", 64) != Format)
        {
            throw new WireFormatException(WireErrorCode.UnknownValue, "format", "expected " + Format);
        }

        header.GetInt32("version", Version, Version);
        string kindName = header.GetChoice("kind", new string[] { "embed", "block", "head" });
        StageKind kind = kindName == "embed" ? StageKind.Embedding : kindName == "block" ? StageKind.Block : StageKind.Head;
        var shape = new StageShape(
            header.GetString("stageId", 64),
            kind,
            header.GetInt32("tokens", 1, 4096),
            header.GetInt32("modelDim", 1, 4096),
            header.GetInt32("heads", 1, 64),
            header.GetInt32("mlpDim", 1, 16384),
            header.GetInt32("patchDim", 1, 4096),
            header.GetInt32("classes", 2, 1000));
        return new Int8StageBlob(shape, bundle, data.Length);
    }

    /// <summary>The header JSON of a stage.</summary>
    public static byte[] HeaderFor(StageShape shape)
    {
        var writer = new EdgeLam.Contracts.Wire.Json.JsonWriter();
        writer.WriteStartObject();
        writer.WriteString("format", Format);
        writer.WriteNumber("version", (long)Version);
        writer.WriteString("stageId", shape.StageId);
        writer.WriteString("kind", shape.Kind == StageKind.Embedding ? "embed" : shape.Kind == StageKind.Block ? "block" : "head");
        writer.WriteNumber("tokens", (long)shape.Tokens);
        writer.WriteNumber("modelDim", (long)shape.ModelDim);
        writer.WriteNumber("heads", (long)shape.Heads);
        writer.WriteNumber("mlpDim", (long)shape.MlpDim);
        writer.WriteNumber("patchDim", (long)shape.PatchDim);
        writer.WriteNumber("classes", (long)shape.Classes);
        writer.WriteEndObject();
        return writer.ToArray();
    }

    /// <summary>The quantization of an activation point, from its "quant.{point}" frame.</summary>
    public QuantizationParameters Activation(string point)
    {
        TensorFrame frame = Bundle.GetRequired("quant." + point);
        if (frame.DataType != TensorDataType.Float32 || frame.ElementCount != 2)
        {
            throw new WireFormatException(WireErrorCode.Inconsistent, "quant." + point, "expected float32 [2] = (scale, zero point)");
        }

        float scale = frame.GetFloat(0);
        float zeroPoint = frame.GetFloat(1);
        if (!(scale > 0) || zeroPoint < -128 || zeroPoint > 127 || zeroPoint != (int)zeroPoint)
        {
            throw new WireFormatException(WireErrorCode.OutOfRange, "quant." + point, "scale must be positive and the zero point an integer in [-128, 127]");
        }

        return new QuantizationParameters(scale, (int)zeroPoint);
    }

    /// <summary>A frame holding an activation point's quantization.</summary>
    public static TensorFrame ActivationFrame(QuantizationParameters parameters)
    {
        return TensorFrame.FromFloatArray(new float[] { parameters.Scale, parameters.ZeroPoint }, new int[] { 2 }, TensorDataType.Float32);
    }

    /// <summary>A float vector frame of an expected length.</summary>
    public float[] FloatVector(string name, int length)
    {
        TensorFrame frame = Bundle.GetRequired(name);
        if (frame.DataType != TensorDataType.Float32 || frame.ElementCount != length)
        {
            throw new WireFormatException(WireErrorCode.Inconsistent, name, "expected float32 with " + length.ToString() + " elements");
        }

        return frame.ToFloatArray();
    }

    /// <summary>The int8 per-channel weights and int32 bias of a linear layer named {layer}.weight / {layer}.bias.</summary>
    public EdgeLam.Firmware.Kernels.QuantizedLinearWeights Linear(string layer, int inFeatures, int outFeatures)
    {
        TensorFrame weight = Bundle.GetRequired(layer + ".weight");
        TensorFrame bias = Bundle.GetRequired(layer + ".bias");
        if (weight.DataType != TensorDataType.Int8 || weight.Shape.Length != 2 || weight.Shape[0] != outFeatures || weight.Shape[1] != inFeatures || weight.Quantization != QuantizationKind.PerChannel)
        {
            throw new WireFormatException(WireErrorCode.Inconsistent, layer + ".weight", "expected int8 per-channel [" + outFeatures.ToString() + ", " + inFeatures.ToString() + "]");
        }

        if (bias.DataType != TensorDataType.Int32 || bias.ElementCount != outFeatures)
        {
            throw new WireFormatException(WireErrorCode.Inconsistent, layer + ".bias", "expected int32 [" + outFeatures.ToString() + "]");
        }

        return new EdgeLam.Firmware.Kernels.QuantizedLinearWeights(inFeatures, outFeatures, weight.ToInt8Array(), bias.ToInt32Array(), weight.Scales);
    }

    /// <summary>An int8 per-tensor frame of an expected length (e.g. the position embedding) and its quantization.</summary>
    public sbyte[] Int8Tensor(string name, int length, out QuantizationParameters quantization)
    {
        TensorFrame frame = Bundle.GetRequired(name);
        if (frame.DataType != TensorDataType.Int8 || frame.Quantization != QuantizationKind.PerTensor || frame.ElementCount != length)
        {
            throw new WireFormatException(WireErrorCode.Inconsistent, name, "expected int8 per-tensor with " + length.ToString() + " elements");
        }

        quantization = new QuantizationParameters(frame.Scales[0], frame.ZeroPoints[0]);
        return frame.ToInt8Array();
    }

    /// <summary>
    /// The block mask of a linear layer from its optional "{layer}.keptBlocks" frame (int8 [Out, blocks per row], 1 = kept,
    /// 0 = pruned; the block size is ⌈In / blocks⌉), or null for a dense layer.
    /// </summary>
    public EdgeLam.Firmware.Kernels.StructuredSparsityMask? BlockMask(string layer, EdgeLam.Firmware.Kernels.QuantizedLinearWeights weights)
    {
        if (weights == null)
        {
            throw new System.ArgumentNullException(nameof(weights));
        }

        TensorFrame? frame = Bundle.Find(layer + ".keptBlocks");
        if (frame == null)
        {
            return null;
        }

        int blocks = frame.Shape.Length == 2 ? frame.Shape[1] : 0;
        int blockSize = blocks > 0 ? (weights.In + blocks - 1) / blocks : 0;
        if (frame.DataType != TensorDataType.Int8 || frame.Shape.Length != 2 || frame.Shape[0] != weights.Out || blocks <= 0 || blocks > weights.In || (weights.In + blockSize - 1) / blockSize != blocks)
        {
            throw new WireFormatException(WireErrorCode.Inconsistent, layer + ".keptBlocks", "expected int8 [" + weights.Out.ToString() + ", blocks] with blocks dividing " + weights.In.ToString() + " inputs");
        }

        var mask = new EdgeLam.Firmware.Kernels.StructuredSparsityMask(weights.In, weights.Out, blockSize);
        for (int c = 0; c < weights.Out; c++)
        {
            for (int b = 0; b < blocks; b++)
            {
                int flag = frame.GetInteger((c * blocks) + b);
                if (flag != 0 && flag != 1)
                {
                    throw new WireFormatException(WireErrorCode.OutOfRange, layer + ".keptBlocks", "block flags are 0 (pruned) or 1 (kept)");
                }

                mask.SetKept(c, b, flag == 1);
            }
        }

        return mask;
    }

    /// <summary>The frame of a block mask, to build a blob.</summary>
    public static void AddBlockMask(TensorBundle bundle, string layer, EdgeLam.Firmware.Kernels.StructuredSparsityMask mask)
    {
        if (bundle == null || mask == null)
        {
            throw new System.ArgumentNullException(bundle == null ? nameof(bundle) : nameof(mask));
        }

        var flags = new sbyte[mask.Out * mask.BlocksPerRow];
        for (int c = 0; c < mask.Out; c++)
        {
            for (int b = 0; b < mask.BlocksPerRow; b++)
            {
                flags[(c * mask.BlocksPerRow) + b] = mask.IsKept(c, b) ? (sbyte)1 : (sbyte)0;
            }
        }

        bundle.Add(layer + ".keptBlocks", TensorFrame.FromInt8(flags, new int[] { mask.Out, mask.BlocksPerRow }, QuantizationKind.None, 0, new float[0], new int[0]));
    }

    /// <summary>The frames of a quantized linear layer, to build a blob.</summary>
    public static void AddLinear(TensorBundle bundle, string layer, EdgeLam.Firmware.Kernels.QuantizedLinearWeights weights)
    {
        var zeroPoints = new int[weights.Out];
        bundle.Add(layer + ".weight", TensorFrame.FromInt8(weights.Weights, new int[] { weights.Out, weights.In }, QuantizationKind.PerChannel, 0, weights.WeightScales, zeroPoints));
        bundle.Add(layer + ".bias", TensorFrame.FromInt32(weights.Bias, new int[] { weights.Out }, QuantizationKind.None, 0, new float[0], new int[0]));
    }
}
