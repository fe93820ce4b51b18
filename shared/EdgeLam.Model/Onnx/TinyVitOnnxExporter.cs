using EdgeLam.Model.Architecture;
using EdgeLam.Model.Quantization;
using EdgeLam.Model.Variants;
using Google.Protobuf;
using Onnx;
using static EdgeLam.Model.Onnx.OnnxGraphBuilder;
using DataType = Onnx.TensorProto.Types.DataType;

namespace EdgeLam.Model.Onnx;

/// <summary>
/// Builds ONNX models (opset 17) of any stage, or of the whole model, in one precision variant.
/// Every stage has one float input "input" and one float output "output" with a symbolic batch,
/// so variants of one stage are interchangeable in a pipeline.
/// INT8 dense layers are written in QDQ form — QuantizeLinear/DequantizeLinear on the activation,
/// per-axis DequantizeLinear on int8 weights and int32 bias, Gemm(transB=1), QuantizeLinear/DequantizeLinear
/// on the output — which ONNX Runtime's QDQ transformer fuses into QGemm (integer accumulation).
/// </summary>
public sealed class TinyVitOnnxExporter
{
    public const string InputName = "input";
    public const string OutputName = "output";

    private readonly TinyVitWeights _weights;
    private readonly QuantizedTinyVit? _quantized;
    private readonly ModelVariant _variant;

    /// <summary>An exporter for float variants (FP32 or FP16) of <paramref name="weights"/>.</summary>
    public TinyVitOnnxExporter(TinyVitWeights weights, ModelVariant variant)
    {
        ArgumentNullException.ThrowIfNull(weights);
        if (variant.IsQuantized())
            throw new ArgumentException($"Variant {variant.WireName()} needs a quantized model; use the QuantizedTinyVit constructor.", nameof(variant));
        _weights = weights;
        _variant = variant;
    }

    /// <summary>An exporter for the integer variants (INT8, Pruned-INT8).</summary>
    public TinyVitOnnxExporter(QuantizedTinyVit quantized, ModelVariant variant)
    {
        ArgumentNullException.ThrowIfNull(quantized);
        if (!variant.IsQuantized())
            throw new ArgumentException($"Variant {variant.WireName()} is a float variant; use the TinyVitWeights constructor.", nameof(variant));
        _weights = quantized.Source;
        _quantized = quantized;
        _variant = variant;
    }

    private TinyVitConfig Config => _weights.Config;

    /// <summary>The serialized ModelProto of <paramref name="stage"/>.</summary>
    public byte[] ExportBytes(ModelStage stage) => Export(stage).ToByteArray();

    public ModelProto Export(ModelStage stage)
    {
        if (Config.Channels != 1)
            throw new NotSupportedException($"Export is defined for single-channel images; the configuration has {Config.Channels} channels.");
        if (stage.Kind == ModelStageKind.Block && (stage.BlockIndex < 0 || stage.BlockIndex >= Config.Layers))
            throw new ArgumentOutOfRangeException(nameof(stage), stage.BlockIndex, $"The model has blocks 0..{Config.Layers - 1}.");
        var graph = new OnnxGraphBuilder($"tinyvit_{stage.Name}_{_variant.WireName()}");
        if (stage.TakesPixels)
            graph.Input(InputName, DataType.Float, Config.PixelsPerImage);
        else
            graph.Input(InputName, DataType.Float, Config.Tokens, Config.ModelDim);

        var x = InputName;
        switch (stage.Kind)
        {
            case ModelStageKind.Embedding:
                x = Embed(graph, x);
                break;
            case ModelStageKind.Block:
                x = Block(graph, stage.BlockIndex, x);
                break;
            case ModelStageKind.Head:
                x = Head(graph, x);
                break;
            default:
                x = Embed(graph, x);
                for (var i = 0; i < Config.Layers; i++)
                    x = Block(graph, i, x);
                x = Head(graph, x);
                break;
        }
        graph.NodeWithOutput("Identity", [x], OutputName);
        if (stage.GivesLogits)
            graph.Output(OutputName, DataType.Float, Config.Classes);
        else
            graph.Output(OutputName, DataType.Float, Config.Tokens, Config.ModelDim);
        return graph.ToModel($"EdgeLamIoT tiny ViT, stage {stage.Name}, variant {_variant.WireName()}");
    }

    private string Embed(OnnxGraphBuilder g, string pixels)
    {
        var c = Config;
        int s = c.PatchesPerSide, p = c.PatchSize;
        // [B, H·W] → [B, py, dy, px, dx] → [B, py, px, dy, dx] → [B·T, P·P]: the patch order of the reference.
        var grid = g.Node("Reshape", [pixels, g.AddShape("embed_grid_shape", -1, s, p, s, p)]);
        var ordered = g.Node("Transpose", [grid], IntsAttribute("perm", 0, 1, 3, 2, 4));
        var patches = g.Node("Reshape", [ordered, g.AddShape("embed_patch_shape", -1, c.Tokens, c.PatchDim)]);
        var tokens = Linear(g, "embed", _weights.PatchEmbedding, patches, c.Tokens);
        return g.Node("Add", [tokens, FloatParameter(g, "embed_position", _weights.Position, c.Tokens, c.ModelDim)]);
    }

    private string Block(OnnxGraphBuilder g, int index, string x)
    {
        var c = Config;
        var block = _weights.Blocks[index];
        var stem = $"block{index}";
        int tokens = c.Tokens, heads = c.Heads, dh = c.HeadDim;

        var normed = LayerNorm(g, $"{stem}_ln1", block.Ln1, x);
        var q = Linear(g, $"{stem}_q", block.Query, normed, tokens);
        var k = Linear(g, $"{stem}_k", block.Key, normed, tokens);
        var v = Linear(g, $"{stem}_v", block.Value, normed, tokens);
        var headShape = g.AddShape($"{stem}_head_shape", -1, tokens, heads, dh);
        var qh = g.Node("Transpose", [g.Node("Reshape", [q, headShape])], IntsAttribute("perm", 0, 2, 1, 3));
        var kt = g.Node("Transpose", [g.Node("Reshape", [k, headShape])], IntsAttribute("perm", 0, 2, 3, 1));
        var vh = g.Node("Transpose", [g.Node("Reshape", [v, headShape])], IntsAttribute("perm", 0, 2, 1, 3));
        var scores = g.Node("Mul", [g.Node("MatMul", [qh, kt]), g.AddScalarFloat($"{stem}_score_scale", 1f / MathF.Sqrt(dh))]);
        var weights = g.Node("Softmax", [scores], IntAttribute("axis", -1));
        var context = g.Node("Transpose", [g.Node("MatMul", [weights, vh])], IntsAttribute("perm", 0, 2, 1, 3));
        var merged = g.Node("Reshape", [context, g.AddShape($"{stem}_merge_shape", -1, tokens, c.ModelDim)]);
        var attended = g.Node("Add", [x, Linear(g, $"{stem}_o", block.Output, merged, tokens)]);

        var normed2 = LayerNorm(g, $"{stem}_ln2", block.Ln2, attended);
        var hidden = Gelu(g, Linear(g, $"{stem}_fc1", block.Fc1, normed2, tokens));
        return g.Node("Add", [attended, Linear(g, $"{stem}_fc2", block.Fc2, hidden, tokens)]);
    }

    private string Head(OnnxGraphBuilder g, string x)
    {
        var normed = LayerNorm(g, "head_ln", _weights.FinalNorm, x);
        var pooled = g.Node("ReduceMean", [normed], IntsAttribute("axes", 1), IntAttribute("keepdims", 0));
        return Linear(g, "head", _weights.Head, pooled, tokens: 0);
    }

    private string LayerNorm(OnnxGraphBuilder g, string stem, LayerNormWeights norm, string x) =>
        g.Node("LayerNormalization",
            [x, FloatParameter(g, $"{stem}_gamma", norm.Gamma, norm.Dim), FloatParameter(g, $"{stem}_beta", norm.Beta, norm.Dim)],
            IntAttribute("axis", -1), FloatAttribute("epsilon", LayerNormWeights.Epsilon));

    /// <summary>0.5·x·(1 + erf(x/√2)), the exact form <see cref="Architecture.Gelu"/> evaluates; ORT fuses it into one Gelu kernel.</summary>
    private static string Gelu(OnnxGraphBuilder g, string x)
    {
        var erf = g.Node("Erf", [g.Node("Div", [x, g.AddScalarFloat("gelu_sqrt2", MathF.Sqrt(2f))])]);
        var onePlus = g.Node("Add", [erf, g.AddScalarFloat("gelu_one", 1f)]);
        return g.Node("Mul", [g.Node("Mul", [x, onePlus]), g.AddScalarFloat("gelu_half", 0.5f)]);
    }

    /// <summary>A float parameter: float32 as is, or stored as half and Cast to float (folded once at session load).</summary>
    private string FloatParameter(OnnxGraphBuilder g, string stem, float[] values, params long[] dims)
    {
        if (_variant != ModelVariant.Fp16)
            return g.AddFloat(stem, values, dims);
        var halves = new Half[values.Length];
        for (var i = 0; i < values.Length; i++)
            halves[i] = (Half)values[i];
        return g.Node("Cast", [g.AddHalf(stem, halves, dims)], IntAttribute("to", (long)DataType.Float));
    }

    /// <summary>y = x·Wᵀ + b on [B, tokens, In] (or [B, In] when <paramref name="tokens"/> is 0).</summary>
    private string Linear(OnnxGraphBuilder g, string stem, LinearWeights layer, string x, int tokens)
    {
        if (_quantized is not null)
            return QuantizedLinear(g, stem, _quantized.For(layer), x, tokens);
        var transposed = new float[layer.W.Length];
        for (var o = 0; o < layer.Out; o++)
            for (var i = 0; i < layer.In; i++)
                transposed[i * layer.Out + o] = layer.W[o * layer.In + i];
        var product = g.Node("MatMul", [x, FloatParameter(g, $"{stem}_weight_t", transposed, layer.In, layer.Out)]);
        return g.Node("Add", [product, FloatParameter(g, $"{stem}_bias", layer.B, layer.Out)]);
    }

    private static string QuantizedLinear(OnnxGraphBuilder g, string stem, QuantizedLinear layer, string x, int tokens)
    {
        var rows = tokens > 0 ? g.Node("Reshape", [x, g.AddShape($"{stem}_rows_shape", -1, layer.In)]) : x;
        var inputScale = g.AddScalarFloat($"{stem}_input_scale", layer.Input.Scale);
        var inputZeroPoint = g.AddScalarInt8($"{stem}_input_zero_point", (sbyte)layer.Input.ZeroPoint);
        var quantizedInput = g.Node("QuantizeLinear", [rows, inputScale, inputZeroPoint]);
        var input = g.Node("DequantizeLinear", [quantizedInput, inputScale, inputZeroPoint]);

        var weights = layer.Weights;
        var weight = g.Node("DequantizeLinear",
            [g.AddInt8($"{stem}_weight", weights.Weights, layer.Out, layer.In),
             g.AddFloat($"{stem}_weight_scale", weights.WeightScales, layer.Out),
             // ORT's QDQ Gemm selector needs the weight zero point present (all zeros: symmetric weights).
             g.AddInt8($"{stem}_weight_zero_point", new sbyte[layer.Out], layer.Out)],
            IntAttribute("axis", 0));
        var biasScales = new float[layer.Out];
        for (var o = 0; o < layer.Out; o++)
            biasScales[o] = layer.Input.Scale * weights.WeightScales[o];
        var bias = g.Node("DequantizeLinear",
            [g.AddInt32($"{stem}_bias", weights.Bias, layer.Out), g.AddFloat($"{stem}_bias_scale", biasScales, layer.Out)],
            IntAttribute("axis", 0));
        var product = g.Node("Gemm", [input, weight, bias], IntAttribute("transB", 1));

        var outputScale = g.AddScalarFloat($"{stem}_output_scale", layer.Output.Scale);
        var outputZeroPoint = g.AddScalarInt8($"{stem}_output_zero_point", (sbyte)layer.Output.ZeroPoint);
        var output = g.Node("DequantizeLinear", [g.Node("QuantizeLinear", [product, outputScale, outputZeroPoint]), outputScale, outputZeroPoint]);
        return tokens > 0 ? g.Node("Reshape", [output, g.AddShape($"{stem}_tokens_shape", -1, tokens, layer.Out)]) : output;
    }
}
