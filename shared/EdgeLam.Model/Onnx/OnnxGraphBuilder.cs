using System.Runtime.InteropServices;
using Google.Protobuf;
using Onnx;

namespace EdgeLam.Model.Onnx;

/// <summary>
/// Builds one ONNX graph node by node: initializers, nodes with fresh output names, typed inputs
/// and outputs with a symbolic batch dimension. Serialization goes through the OnnxSharp protobuf classes.
/// </summary>
internal sealed class OnnxGraphBuilder
{
    /// <summary>Opset 17: LayerNormalization exists, ReduceMean still takes axes as an attribute, per-axis Q/DQ since 13.</summary>
    public const long OpsetVersion = 17;
    public const string BatchDimension = "batch";

    private readonly GraphProto _graph;
    private readonly HashSet<string> _names = new(StringComparer.Ordinal);
    private int _counter;

    public OnnxGraphBuilder(string graphName)
    {
        _graph = new GraphProto { Name = graphName };
    }

    /// <summary>A name unused so far, derived from <paramref name="stem"/>.</summary>
    public string FreshName(string stem)
    {
        var name = stem;
        while (!_names.Add(name))
            name = $"{stem}_{++_counter}";
        return name;
    }

    public string AddFloat(string stem, ReadOnlySpan<float> values, params long[] dims) =>
        AddRaw(stem, TensorProto.Types.DataType.Float, MemoryMarshal.AsBytes(values), dims);

    public string AddHalf(string stem, ReadOnlySpan<Half> values, params long[] dims) =>
        AddRaw(stem, TensorProto.Types.DataType.Float16, MemoryMarshal.AsBytes(values), dims);

    public string AddInt8(string stem, ReadOnlySpan<sbyte> values, params long[] dims) =>
        AddRaw(stem, TensorProto.Types.DataType.Int8, MemoryMarshal.AsBytes(values), dims);

    public string AddInt32(string stem, ReadOnlySpan<int> values, params long[] dims) =>
        AddRaw(stem, TensorProto.Types.DataType.Int32, MemoryMarshal.AsBytes(values), dims);

    public string AddInt64(string stem, ReadOnlySpan<long> values, params long[] dims) =>
        AddRaw(stem, TensorProto.Types.DataType.Int64, MemoryMarshal.AsBytes(values), dims);

    public string AddScalarFloat(string stem, float value) => AddFloat(stem, [value]);

    public string AddScalarInt8(string stem, sbyte value) => AddInt8(stem, [value]);

    /// <summary>A 1-D int64 shape constant for Reshape.</summary>
    public string AddShape(string stem, params long[] shape) => AddInt64(stem, shape, shape.Length);

    private string AddRaw(string stem, TensorProto.Types.DataType type, ReadOnlySpan<byte> bytes, long[] dims)
    {
        // ONNX raw_data is little-endian, which is what MemoryMarshal gives on every platform .NET targets here.
        if (!BitConverter.IsLittleEndian)
            throw new PlatformNotSupportedException("ONNX raw tensor data is little-endian; this host is big-endian.");
        var tensor = new TensorProto
        {
            Name = FreshName(stem),
            DataType = (int)type,
            RawData = ByteString.CopyFrom(bytes),
        };
        tensor.Dims.AddRange(dims);
        _graph.Initializer.Add(tensor);
        return tensor.Name;
    }

    /// <summary>Adds a node and returns the name of its single output.</summary>
    public string Node(string opType, IReadOnlyList<string> inputs, params AttributeProto[] attributes) =>
        NodeWithOutput(opType, inputs, FreshName(opType.ToLowerInvariant()), attributes);

    /// <summary>Adds a node whose single output carries a chosen name (used for graph outputs).</summary>
    public string NodeWithOutput(string opType, IReadOnlyList<string> inputs, string output, params AttributeProto[] attributes)
    {
        _names.Add(output);
        // Node names are optional in ONNX; leaving them out keeps the serialized model to what it computes.
        var node = new NodeProto { OpType = opType };
        node.Input.AddRange(inputs);
        node.Output.Add(output);
        node.Attribute.AddRange(attributes);
        _graph.Node.Add(node);
        return output;
    }

    public void Input(string name, TensorProto.Types.DataType type, params long[] trailingDims)
    {
        _names.Add(name);
        _graph.Input.Add(ValueInfo(name, type, trailingDims));
    }

    public void Output(string name, TensorProto.Types.DataType type, params long[] trailingDims) =>
        _graph.Output.Add(ValueInfo(name, type, trailingDims));

    /// <summary>A tensor value whose first dimension is the symbolic batch.</summary>
    private static ValueInfoProto ValueInfo(string name, TensorProto.Types.DataType type, long[] trailingDims)
    {
        var shape = new TensorShapeProto();
        shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimParam = BatchDimension });
        foreach (var d in trailingDims)
            shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = d });
        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)type, Shape = shape } },
        };
    }

    public ModelProto ToModel(string docString)
    {
        var model = new ModelProto
        {
            IrVersion = 8,
            ProducerName = "EdgeLamIoT",
            ProducerVersion = "1",
            DocString = docString,
            Graph = _graph,
        };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = OpsetVersion });
        return model;
    }

    public static AttributeProto IntAttribute(string name, long value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    public static AttributeProto FloatAttribute(string name, float value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = value };

    public static AttributeProto IntsAttribute(string name, params long[] values)
    {
        var attribute = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        attribute.Ints.AddRange(values);
        return attribute;
    }
}
