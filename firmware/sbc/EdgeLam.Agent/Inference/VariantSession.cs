using System.Diagnostics;
using EdgeLam.Model.Onnx;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace EdgeLam.Agent.Inference;

/// <summary>An ONNX Runtime session of one deployed stage variant, on the CUDA provider when asked and available, else the CPU.</summary>
public sealed class VariantSession : IDisposable
{
    private readonly InferenceSession _session;
    private readonly RunOptions _runOptions = new();
    private readonly string _inputName;
    private readonly string _outputName;
    private readonly int[] _inputDimensions;

    private VariantSession(InferenceSession session, string executionProvider)
    {
        _session = session;
        ExecutionProvider = executionProvider;
        _inputName = session.InputMetadata.ContainsKey(TinyVitOnnxExporter.InputName) ? TinyVitOnnxExporter.InputName : session.InputMetadata.Keys.First();
        _outputName = session.OutputMetadata.ContainsKey(TinyVitOnnxExporter.OutputName) ? TinyVitOnnxExporter.OutputName : session.OutputMetadata.Keys.First();
        NodeMetadata input = session.InputMetadata[_inputName];
        if (input.ElementDataType != TensorElementType.Float)
            throw new InvalidDataException($"Stage input '{_inputName}' is {input.ElementDataType}; stage variants take float32 tensors.");
        _inputDimensions = input.Dimensions;
    }

    /// <summary>"cuda" or "cpu": the provider the session runs on.</summary>
    public string ExecutionProvider { get; }

    /// <summary>
    /// Loads <paramref name="model"/>. With <paramref name="tryCuda"/>, appends the CUDA provider first; when this
    /// ONNX Runtime build or machine has none, <paramref name="cudaUnavailable"/> gets the reason and the CPU provider runs it.
    /// </summary>
    public static VariantSession Load(byte[] model, int threads, bool tryCuda, out string? cudaUnavailable)
    {
        ArgumentNullException.ThrowIfNull(model);
        return Load(options => new InferenceSession(model, options), threads, tryCuda, out cudaUnavailable);
    }

    /// <summary>Loads the model file at <paramref name="modelPath"/> (a downloaded artifact), as <see cref="Load(byte[], int, bool, out string?)"/>.</summary>
    public static VariantSession Load(string modelPath, int threads, bool tryCuda, out string? cudaUnavailable)
    {
        ArgumentNullException.ThrowIfNull(modelPath);
        return Load(options => new InferenceSession(modelPath, options), threads, tryCuda, out cudaUnavailable);
    }

    private static VariantSession Load(Func<SessionOptions, InferenceSession> create, int threads, bool tryCuda, out string? cudaUnavailable)
    {
        cudaUnavailable = null;
        using var options = new SessionOptions
        {
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            IntraOpNumThreads = threads,
            InterOpNumThreads = 1,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
        };
        string provider = "cpu";
        if (tryCuda)
        {
            try
            {
                options.AppendExecutionProvider_CUDA(0);
                provider = "cuda";
            }
            catch (Exception exception) when (exception is OnnxRuntimeException or EntryPointNotFoundException or DllNotFoundException)
            {
                cudaUnavailable = exception.Message.Split('\n')[0];
            }
        }

        try
        {
            return new VariantSession(create(options), provider);
        }
        catch (OnnxRuntimeException exception)
        {
            throw new InvalidDataException($"ONNX Runtime rejected the model: {exception.Message.Split('\n')[0]}", exception);
        }
    }

    /// <summary>The input shape for <paramref name="batch"/> images: the model's dimensions with the dynamic batch filled in.</summary>
    public long[] InputShape(int batch) => _inputDimensions.Select(dimension => dimension < 0 ? (long)batch : dimension).ToArray();

    /// <summary>Elements of one image's input (all dimensions but the first).</summary>
    public long InputElementsPerImage => _inputDimensions.Skip(1).Aggregate(1L, (product, dimension) => product * Math.Max(1, dimension));

    /// <summary>Runs the stage on <paramref name="input"/> of shape <paramref name="shape"/>; returns the output and its shape.</summary>
    public (float[] Output, long[] Shape) Run(float[] input, long[] shape)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(shape);
        if (shape.Length != _inputDimensions.Length)
            throw new ArgumentException($"Input has {shape.Length} dimensions [{string.Join(", ", shape)}]; the stage takes {_inputDimensions.Length} ([{string.Join(", ", _inputDimensions)}], -1 = any).", nameof(shape));
        for (int i = 0; i < shape.Length; i++)
        {
            if (_inputDimensions[i] >= 0 && _inputDimensions[i] != shape[i])
                throw new ArgumentException($"Input dimension {i} is {shape[i]}; the stage takes {_inputDimensions[i]}.", nameof(shape));
        }

        using var value = OrtValue.CreateTensorValueFromMemory(input, shape);
        using var outputs = _session.Run(_runOptions, [_inputName], [value], [_outputName]);
        OrtValue output = outputs[0];
        return (output.GetTensorDataAsSpan<float>().ToArray(), output.GetTensorTypeAndShape().Shape);
    }

    /// <summary>Median latency of single-image runs on a fixed input, after two warm-up runs.</summary>
    public double CalibrateMilliseconds(int runs)
    {
        long[] shape = InputShape(1);
        var input = new float[shape.Aggregate(1L, (product, dimension) => product * dimension)];
        for (int i = 0; i < input.Length; i++)
            input[i] = (float)Math.Sin(i * 0.37);
        Run(input, shape);
        Run(input, shape);
        var timings = new double[runs];
        for (int i = 0; i < runs; i++)
        {
            long start = Stopwatch.GetTimestamp();
            Run(input, shape);
            timings[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }

        Array.Sort(timings);
        return timings[runs / 2];
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        _session.Dispose();
        _runOptions.Dispose();
    }
}
