using System.Runtime.InteropServices;
using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using Onnx;

namespace EdgeLam.Firmware.Tests.Kernels;

/// <summary>Builds one-node ONNX models in memory (OnnxSharp ModelProto) and runs them in ONNX Runtime (CPU).</summary>
internal sealed class OnnxTestGraph
{
    private readonly GraphProto graph = new() { Name = "kernel_check" };
    private readonly List<(string Domain, long Version)> opsets = [("", 13)];

    public OnnxTestGraph UseOpset(string domain, long version)
    {
        opsets.Add((domain, version));
        return this;
    }

    public OnnxTestGraph Input(string name, TensorProto.Types.DataType type, params long[] shape)
    {
        graph.Input.Add(ValueInfo(name, type, shape));
        return this;
    }

    public OnnxTestGraph Output(string name, TensorProto.Types.DataType type, params long[] shape)
    {
        graph.Output.Add(ValueInfo(name, type, shape));
        return this;
    }

    public OnnxTestGraph Node(string opType, string domain, string[] inputs, string[] outputs, params AttributeProto[] attributes)
    {
        var node = new NodeProto { OpType = opType, Domain = domain, Name = opType + "_" + graph.Node.Count };
        node.Input.AddRange(inputs);
        node.Output.AddRange(outputs);
        node.Attribute.AddRange(attributes);
        graph.Node.Add(node);
        return this;
    }

    public OnnxTestGraph Int8(string name, long[] shape, sbyte[] values) =>
        Initializer(name, TensorProto.Types.DataType.Int8, shape, MemoryMarshal.AsBytes(values.AsSpan()));

    public OnnxTestGraph Int32(string name, long[] shape, int[] values) =>
        Initializer(name, TensorProto.Types.DataType.Int32, shape, MemoryMarshal.AsBytes(values.AsSpan()));

    public OnnxTestGraph Int64(string name, long[] shape, long[] values) =>
        Initializer(name, TensorProto.Types.DataType.Int64, shape, MemoryMarshal.AsBytes(values.AsSpan()));

    public OnnxTestGraph Float(string name, long[] shape, float[] values) =>
        Initializer(name, TensorProto.Types.DataType.Float, shape, MemoryMarshal.AsBytes(values.AsSpan()));

    public static AttributeProto IntAttribute(string name, long value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    public byte[] ToModelBytes()
    {
        var model = new ModelProto { IrVersion = 8, ProducerName = "EdgeLam.Firmware.Tests", Graph = graph };
        foreach (var (domain, version) in opsets)
            model.OpsetImport.Add(new OperatorSetIdProto { Domain = domain, Version = version });
        return model.ToByteArray();
    }

    /// <summary>Runs the model on one int8 input and returns its int8 output.</summary>
    public sbyte[] RunInt8(string inputName, sbyte[] input, long[] inputShape, string outputName,
        GraphOptimizationLevel optimization = GraphOptimizationLevel.ORT_ENABLE_ALL)
    {
        using var options = new SessionOptions { GraphOptimizationLevel = optimization, IntraOpNumThreads = 1 };
        using var session = new InferenceSession(ToModelBytes(), options);
        using var inputValue = OrtValue.CreateTensorValueFromMemory(input, inputShape);
        using var runOptions = new RunOptions();
        using var outputs = session.Run(runOptions, [inputName], [inputValue], [outputName]);
        return outputs[0].GetTensorDataAsSpan<sbyte>().ToArray();
    }

    /// <summary>Runs the model on two int8 inputs and returns its int8 output.</summary>
    public sbyte[] RunInt8(string firstName, sbyte[] first, long[] firstShape, string secondName, sbyte[] second, long[] secondShape, string outputName)
    {
        using var options = new SessionOptions { IntraOpNumThreads = 1 };
        using var session = new InferenceSession(ToModelBytes(), options);
        using var firstValue = OrtValue.CreateTensorValueFromMemory(first, firstShape);
        using var secondValue = OrtValue.CreateTensorValueFromMemory(second, secondShape);
        using var runOptions = new RunOptions();
        using var outputs = session.Run(runOptions, [firstName, secondName], [firstValue, secondValue], [outputName]);
        return outputs[0].GetTensorDataAsSpan<sbyte>().ToArray();
    }

    private OnnxTestGraph Initializer(string name, TensorProto.Types.DataType type, long[] shape, ReadOnlySpan<byte> raw)
    {
        var tensor = new TensorProto { Name = name, DataType = (int)type, RawData = ByteString.CopyFrom(raw) };
        tensor.Dims.AddRange(shape);
        graph.Initializer.Add(tensor);
        return this;
    }

    private static ValueInfoProto ValueInfo(string name, TensorProto.Types.DataType type, long[] shape)
    {
        var tensorType = new TypeProto.Types.Tensor { ElemType = (int)type, Shape = new TensorShapeProto() };
        foreach (var dimension in shape)
            tensorType.Shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = dimension });
        return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = tensorType } };
    }
}
