using EdgeLam.Model.Quantization;
using Google.Protobuf;
using static EdgeLam.Model.Onnx.OnnxGraphBuilder;
using DataType = Onnx.TensorProto.Types.DataType;

namespace EdgeLam.Model.Onnx;

/// <summary>
/// One int8 dense layer alone as an ONNX graph with integer input, so that ONNX Runtime's integer kernels can be
/// compared with the managed and firmware kernels on identical int8 inputs, scales and zero points.
/// </summary>
public static class IntegerLayerGraphs
{
    /// <summary>
    /// int8 x [rows, In] → int32 accumulators [rows, Out] = MatMulInteger(x, Wᵀ, z_in, 0) + bias:
    /// the pure integer part of the layer, no rounding anywhere.
    /// </summary>
    public static byte[] Accumulators(QuantizedLinear layer)
    {
        ArgumentNullException.ThrowIfNull(layer);
        var g = new OnnxGraphBuilder("int8_linear_accumulators");
        g.Input(TinyVitOnnxExporter.InputName, DataType.Int8, layer.In);
        var transposed = new sbyte[layer.In * layer.Out];
        for (var o = 0; o < layer.Out; o++)
            for (var i = 0; i < layer.In; i++)
                transposed[i * layer.Out + o] = layer.Weights.Weights[o * layer.In + i];
        var product = g.Node("MatMulInteger",
            [TinyVitOnnxExporter.InputName, g.AddInt8("weight_t", transposed, layer.In, layer.Out),
             g.AddScalarInt8("input_zero_point", (sbyte)layer.Input.ZeroPoint), g.AddScalarInt8("weight_zero_point", 0)]);
        g.NodeWithOutput("Add", [product, g.AddInt32("bias", layer.Weights.Bias, layer.Out)], TinyVitOnnxExporter.OutputName);
        g.Output(TinyVitOnnxExporter.OutputName, DataType.Int32, layer.Out);
        return g.ToModel("int8 dense layer, int32 accumulators").ToByteArray();
    }

    /// <summary>
    /// int8 x [rows, In] → int8 y [rows, Out] in QDQ form (DQ input, per-axis DQ weight, int32 DQ bias, Gemm, Q output),
    /// which ONNX Runtime fuses into one QGemm: the complete integer layer including requantization.
    /// </summary>
    public static byte[] Requantized(QuantizedLinear layer)
    {
        ArgumentNullException.ThrowIfNull(layer);
        var g = new OnnxGraphBuilder("int8_linear_requantized");
        g.Input(TinyVitOnnxExporter.InputName, DataType.Int8, layer.In);
        var inputScale = g.AddScalarFloat("input_scale", layer.Input.Scale);
        var inputZeroPoint = g.AddScalarInt8("input_zero_point", (sbyte)layer.Input.ZeroPoint);
        var input = g.Node("DequantizeLinear", [TinyVitOnnxExporter.InputName, inputScale, inputZeroPoint]);
        var weights = layer.Weights;
        var weight = g.Node("DequantizeLinear",
            [g.AddInt8("weight", weights.Weights, layer.Out, layer.In), g.AddFloat("weight_scale", weights.WeightScales, layer.Out),
             g.AddInt8("weight_zero_point", new sbyte[layer.Out], layer.Out)],
            IntAttribute("axis", 0));
        var biasScales = weights.WeightScales.Select(s => layer.Input.Scale * s).ToArray();
        var bias = g.Node("DequantizeLinear", [g.AddInt32("bias", weights.Bias, layer.Out), g.AddFloat("bias_scale", biasScales, layer.Out)], IntAttribute("axis", 0));
        var product = g.Node("Gemm", [input, weight, bias], IntAttribute("transB", 1));
        g.NodeWithOutput("QuantizeLinear",
            [product, g.AddScalarFloat("output_scale", layer.Output.Scale), g.AddScalarInt8("output_zero_point", (sbyte)layer.Output.ZeroPoint)],
            TinyVitOnnxExporter.OutputName);
        g.Output(TinyVitOnnxExporter.OutputName, DataType.Int8, layer.Out);
        return g.ToModel("int8 dense layer, int8 in and out").ToByteArray();
    }
}
