using EdgeLam.Firmware.Kernels;
using EdgeLam.Firmware.Quantization;
using EdgeLam.Model.Architecture;

namespace EdgeLam.Model.Quantization;

/// <summary>
/// An int8 dense layer in the TFLite / CMSIS-NN scheme — int8 symmetric per-output-channel weights, int8 asymmetric
/// per-tensor input and output, int32 bias at scale s_in·s_w[c], int32 accumulation, per-channel requantization —
/// evaluated by the firmware's own integer kernel and requantizer (one shared implementation of the arithmetic).
/// Not thread-safe: the prepared kernel owns its scratch accumulators.
/// </summary>
public sealed class QuantizedLinear
{
    private readonly OptimizedInt8LinearKernel _kernel = new();

    public QuantizedLinear(QuantizedLinearWeights weights, QuantizationParameters input, QuantizationParameters output, RequantizationMode mode)
    {
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(output);
        if (weights.WeightScales.Length != weights.Out)
            throw new ArgumentException($"Expected one weight scale per output channel ({weights.Out}), got {weights.WeightScales.Length}.", nameof(weights));
        Weights = weights;
        Input = input;
        Output = output;
        Mode = mode;
        _kernel.Prepare(weights, input, output, mode);
    }

    public int In => Weights.In;
    public int Out => Weights.Out;
    /// <summary>int8 weights [Out, In] (zero point 0), per-channel scales, int32 bias.</summary>
    public QuantizedLinearWeights Weights { get; }
    public QuantizationParameters Input { get; }
    public QuantizationParameters Output { get; }
    public RequantizationMode Mode { get; }

    /// <summary>Quantizes a float layer: symmetric per-channel weights, bias at the product scale.</summary>
    public static QuantizedLinear FromFloat(LinearWeights layer, QuantizationParameters input, QuantizationParameters output, RequantizationMode mode)
    {
        ArgumentNullException.ThrowIfNull(layer);
        ArgumentNullException.ThrowIfNull(input);
        var weights = QuantizedLinearWeights.Quantize(layer.In, layer.Out, layer.W, layer.B, input.Scale);
        return new QuantizedLinear(weights, input, output, mode);
    }

    /// <summary>The same integer layer with another requantization arithmetic.</summary>
    public QuantizedLinear WithMode(RequantizationMode mode) => new(Weights, Input, Output, mode);

    /// <summary>
    /// int32 accumulators acc[r, o] = Σ_i (x[r, i] − z_in) · w[o, i] + bias[o]: the integer part of the layer,
    /// which is exactly what ONNX MatMulInteger followed by an int32 bias add computes.
    /// </summary>
    public void Accumulate(ReadOnlySpan<sbyte> input, int rows, Span<int> accumulators)
    {
        if (rows < 0 || input.Length < rows * In || accumulators.Length < rows * Out)
            throw new ArgumentException($"Buffers too small for {rows} rows of a {In}->{Out} layer (got {input.Length} inputs and {accumulators.Length} accumulators).");
        var zeroPoint = Input.ZeroPoint;
        var w = Weights.Weights;
        for (var r = 0; r < rows; r++)
        {
            var x = input.Slice(r * In, In);
            for (var o = 0; o < Out; o++)
            {
                var accumulator = Weights.Bias[o];
                for (var i = 0; i < In; i++)
                    accumulator += (x[i] - zeroPoint) * w[o * In + i];
                accumulators[r * Out + o] = accumulator;
            }
        }
    }

    /// <summary>int8 in, int8 out through the firmware kernel.</summary>
    public void Evaluate(sbyte[] input, int rows, sbyte[] output) => _kernel.Eval(input, 0, rows, output, 0);

    /// <summary>Float in, float out through the integer kernel: quantize input, integer layer, dequantize output.</summary>
    public void Forward(ReadOnlySpan<float> input, int rows, Span<float> output)
    {
        var quantizedInput = new sbyte[rows * In];
        for (var i = 0; i < quantizedInput.Length; i++)
            quantizedInput[i] = Input.Quantize(input[i]);
        var quantizedOutput = new sbyte[rows * Out];
        Evaluate(quantizedInput, rows, quantizedOutput);
        for (var i = 0; i < quantizedOutput.Length; i++)
            output[i] = Output.Dequantize(quantizedOutput[i]);
    }
}
