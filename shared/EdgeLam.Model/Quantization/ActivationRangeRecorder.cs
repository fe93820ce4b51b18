using EdgeLam.Firmware.Quantization;
using EdgeLam.Model.Architecture;
using EdgeLam.Model.Variants;

namespace EdgeLam.Model.Quantization;

public enum ActivationRangeMethod
{
    /// <summary>The observed minimum and maximum (TFLite's default calibration).</summary>
    MinMax,
    /// <summary>The 0.01th and 99.99th percentiles, clipping rare outliers to keep resolution for the bulk.</summary>
    Percentile,
}

/// <summary>Runs dense layers in float while recording the range of every layer's input and output tensor.</summary>
public sealed class ActivationRangeRecorder(ActivationRangeMethod method) : ILinearExecutor
{
    private const double PercentileTail = 1e-4;
    private readonly Dictionary<LinearWeights, (List<float> Inputs, List<float> Outputs)> _samples = new(ReferenceEqualityComparer.Instance);

    public void Apply(LinearWeights layer, ReadOnlySpan<float> input, int rows, Span<float> output)
    {
        FloatLinearExecutor.Instance.Apply(layer, input, rows, output);
        if (!_samples.TryGetValue(layer, out var samples))
            _samples[layer] = samples = ([], []);
        Observe(samples.Inputs, input[..(rows * layer.In)]);
        Observe(samples.Outputs, output[..(rows * layer.Out)]);
    }

    private void Observe(List<float> sink, ReadOnlySpan<float> values)
    {
        if (method == ActivationRangeMethod.Percentile)
        {
            sink.AddRange(values);
            return;
        }
        // Min/max needs only two numbers per tensor.
        var min = System.Numerics.Tensors.TensorPrimitives.Min(values);
        var max = System.Numerics.Tensors.TensorPrimitives.Max(values);
        if (sink.Count == 0)
        {
            sink.Add(min);
            sink.Add(max);
        }
        else
        {
            sink[0] = MathF.Min(sink[0], min);
            sink[1] = MathF.Max(sink[1], max);
        }
    }

    /// <summary>Quantization parameters of the layer's input and output tensors.</summary>
    public (QuantizationParameters Input, QuantizationParameters Output) ParametersFor(LinearWeights layer)
    {
        if (!_samples.TryGetValue(layer, out var samples))
            throw new InvalidOperationException("The calibration run never reached this dense layer.");
        return (Range(samples.Inputs), Range(samples.Outputs));
    }

    private QuantizationParameters Range(List<float> sink)
    {
        if (method == ActivationRangeMethod.MinMax)
            return QuantizationParameters.FromRange(sink[0], sink[1]);
        var sorted = sink.ToArray();
        Array.Sort(sorted);
        var low = (int)Math.Floor(PercentileTail * (sorted.Length - 1));
        var high = (int)Math.Ceiling((1 - PercentileTail) * (sorted.Length - 1));
        return QuantizationParameters.FromRange(sorted[low], sorted[high]);
    }
}
