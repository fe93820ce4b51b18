using Microsoft.ML.OnnxRuntime;

namespace EdgeLam.Model.Onnx;

/// <summary>
/// One exported stage loaded in ONNX Runtime (CPU), run on float batches through the OrtValue API.
/// Inputs are passed without copies (OrtValue over the managed array).
/// </summary>
public sealed class OnnxStageSession : IDisposable
{
    private readonly InferenceSession _session;
    private readonly RunOptions _runOptions = new();
    private readonly string[] _inputNames = [TinyVitOnnxExporter.InputName];
    private readonly string[] _outputNames = [TinyVitOnnxExporter.OutputName];

    /// <param name="model">A serialized ModelProto with input "input" and output "output".</param>
    /// <param name="intraOpThreads">Threads per operator; 1 gives stable single-core timings.</param>
    /// <param name="optimizedModelPath">When set, ORT writes the graph after its optimizations to this path.</param>
    public OnnxStageSession(byte[] model, int intraOpThreads = 1, string? optimizedModelPath = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        using var options = new SessionOptions
        {
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            IntraOpNumThreads = intraOpThreads,
            InterOpNumThreads = 1,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
        };
        if (optimizedModelPath is not null)
            options.OptimizedModelFilePath = optimizedModelPath;
        try
        {
            _session = new InferenceSession(model, options);
        }
        catch (OnnxRuntimeException exception)
        {
            _runOptions.Dispose();
            throw new InvalidDataException($"ONNX Runtime rejected the model: {exception.Message}", exception);
        }
        ModelBytes = model.Length;
    }

    /// <summary>Size of the serialized model this session was created from.</summary>
    public int ModelBytes { get; }

    /// <summary>Runs the stage on one batch: <paramref name="input"/> holds batch × (per-sample input) floats.</summary>
    public float[] Run(float[] input, long[] inputShape)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(inputShape);
        long expected = 1;
        foreach (var d in inputShape)
            expected *= d;
        if (expected != input.Length)
            throw new ArgumentException($"Input holds {input.Length} values; shape [{string.Join(", ", inputShape)}] needs {expected}.", nameof(input));
        using var value = OrtValue.CreateTensorValueFromMemory(input, inputShape);
        using var outputs = _session.Run(_runOptions, _inputNames, [value], _outputNames);
        return outputs[0].GetTensorDataAsSpan<float>().ToArray();
    }

    /// <summary>Runs a graph with any element types (int8 inputs, int32 outputs for the integer-kernel checks).</summary>
    public TOutput[] Run<TInput, TOutput>(TInput[] input, long[] inputShape)
        where TInput : unmanaged
        where TOutput : unmanaged
    {
        ArgumentNullException.ThrowIfNull(input);
        using var value = OrtValue.CreateTensorValueFromMemory(input, inputShape);
        using var outputs = _session.Run(_runOptions, _inputNames, [value], _outputNames);
        return outputs[0].GetTensorDataAsSpan<TOutput>().ToArray();
    }

    /// <summary>Runs into a caller buffer (no output allocation beyond ORT's own), for timing loops.</summary>
    public void Run(float[] input, long[] inputShape, Span<float> output)
    {
        ArgumentNullException.ThrowIfNull(input);
        using var value = OrtValue.CreateTensorValueFromMemory(input, inputShape);
        using var outputs = _session.Run(_runOptions, _inputNames, [value], _outputNames);
        outputs[0].GetTensorDataAsSpan<float>().CopyTo(output);
    }

    public void Dispose()
    {
        _session.Dispose();
        _runOptions.Dispose();
    }
}
