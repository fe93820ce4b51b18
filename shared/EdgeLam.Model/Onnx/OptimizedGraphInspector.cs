using Onnx;

namespace EdgeLam.Model.Onnx;

/// <summary>What ONNX Runtime turned a model into: the operators of the graph it saves after optimization.</summary>
public static class OptimizedGraphInspector
{
    /// <summary>Operator types that do int8 arithmetic in ONNX Runtime's CPU provider.</summary>
    public static IReadOnlySet<string> IntegerOperators { get; } = new HashSet<string>(StringComparer.Ordinal)
    {
        "QGemm", "QLinearMatMul", "MatMulInteger", "MatMulIntegerToFloat", "DynamicQuantizeMatMul", "QLinearConv",
    };

    /// <summary>Loads <paramref name="model"/> in ONNX Runtime, saves the optimized graph and parses it back.</summary>
    public static ModelProto Optimize(byte[] model)
    {
        var path = Path.Combine(Path.GetTempPath(), $"edgelam-optimized-{Guid.NewGuid():N}.onnx");
        try
        {
            using (new OnnxStageSession(model, intraOpThreads: 1, optimizedModelPath: path))
            {
            }
            return ModelProto.Parser.ParseFrom(File.ReadAllBytes(path));
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>How many nodes of each operator type the graph holds.</summary>
    public static IReadOnlyDictionary<string, int> OperatorCounts(ModelProto model)
    {
        ArgumentNullException.ThrowIfNull(model);
        return model.Graph.Node.GroupBy(node => node.OpType, StringComparer.Ordinal)
            .ToDictionary(group => group.Key, group => group.Count(), StringComparer.Ordinal);
    }

    /// <summary>
    /// Float MatMul/Gemm nodes fed (directly or through a DequantizeLinear) by an int8 initializer: quantized weights that
    /// ORT left to float arithmetic. Empty when every quantized weight reached an integer kernel.
    /// </summary>
    public static IReadOnlyList<string> FloatProductsOnQuantizedWeights(ModelProto model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var int8Initializers = model.Graph.Initializer
            .Where(t => t.DataType == (int)TensorProto.Types.DataType.Int8 && t.Dims.Count >= 2)
            .Select(t => t.Name).ToHashSet(StringComparer.Ordinal);
        var dequantizedWeights = model.Graph.Node
            .Where(n => n.OpType == "DequantizeLinear" && n.Input.Count > 0 && int8Initializers.Contains(n.Input[0]))
            .SelectMany(n => n.Output).ToHashSet(StringComparer.Ordinal);
        return model.Graph.Node
            .Where(n => n.OpType is "MatMul" or "Gemm" or "FusedMatMul" or "FusedGemm")
            .Where(n => n.Input.Any(i => int8Initializers.Contains(i) || dequantizedWeights.Contains(i)))
            .Select(n => n.Name).ToList();
    }
}
