using EdgeLam.Model.Architecture;

namespace EdgeLam.Model.Quantization;

/// <summary>
/// An int8 dense layer in the TFLite / CMSIS-NN scheme: weights int8 symmetric per output channel,
/// input and output int8 asymmetric per tensor, bias int32 at scale s_in·s_w[c], int32 accumulation,
/// requantization by a fixed-point multiplier and shift per output channel.
/// Weights stay row-major [Out, In] like <see cref="LinearWeights"/>.
/// </summary>
public sealed class QuantizedLinear
{
    private readonly int[] _multipliers;
    private readonly int[] _shifts;
    private readonly int[] _weightRowSums;

    public QuantizedLinear(int inFeatures, int outFeatures, sbyte[] weights, float[] weightScales, int[] bias,
        QuantizationParameters input, QuantizationParameters output)
    {
        if (weights.Length != inFeatures * outFeatures)
            throw new ArgumentException($"Expected {outFeatures}x{inFeatures} int8 weights, got {weights.Length}.", nameof(weights));
        if (weightScales.Length != outFeatures || bias.Length != outFeatures)
            throw new ArgumentException($"Expected {outFeatures} weight scales and biases, got {weightScales.Length} and {bias.Length}.");
        In = inFeatures;
        Out = outFeatures;
        Weights = weights;
        WeightScales = weightScales;
        Bias = bias;
        Input = input;
        Output = output;

        // Prepare (TFLite kernel lifecycle): multipliers and zero-point corrections once, none in Eval.
        _multipliers = new int[outFeatures];
        _shifts = new int[outFeatures];
        _weightRowSums = new int[outFeatures];
        for (var o = 0; o < outFeatures; o++)
        {
            var effectiveScale = (double)input.Scale * weightScales[o] / output.Scale;
            (_multipliers[o], _shifts[o]) = FixedPointRequantization.QuantizeMultiplier(effectiveScale);
            var sum = 0;
            for (var i = 0; i < inFeatures; i++)
                sum += weights[o * inFeatures + i];
            _weightRowSums[o] = sum;
        }
    }

    public int In { get; }
    public int Out { get; }
    /// <summary>int8 weights, row-major [Out, In], zero point 0.</summary>
    public sbyte[] Weights { get; }
    /// <summary>Per-output-channel weight scale.</summary>
    public float[] WeightScales { get; }
    /// <summary>int32 bias at scale Input.Scale · WeightScales[c], zero point 0.</summary>
    public int[] Bias { get; }
    public QuantizationParameters Input { get; }
    public QuantizationParameters Output { get; }
    public ReadOnlySpan<int> Multipliers => _multipliers;
    public ReadOnlySpan<int> Shifts => _shifts;

    /// <summary>Quantizes a float layer: symmetric per-channel weights, bias at the product scale.</summary>
    public static QuantizedLinear FromFloat(LinearWeights layer, QuantizationParameters input, QuantizationParameters output)
    {
        ArgumentNullException.ThrowIfNull(layer);
        var weights = new sbyte[layer.W.Length];
        var scales = new float[layer.Out];
        var bias = new int[layer.Out];
        for (var o = 0; o < layer.Out; o++)
        {
            var row = layer.W.AsSpan(o * layer.In, layer.In);
            var maxAbs = 0f;
            foreach (var w in row)
                maxAbs = MathF.Max(maxAbs, MathF.Abs(w));
            var channel = QuantizationParameters.Symmetric(maxAbs);
            scales[o] = channel.Scale;
            channel.Quantize(row, weights.AsSpan(o * layer.In, layer.In));
            var biasScale = (double)input.Scale * channel.Scale;
            bias[o] = (int)Math.Clamp(Math.Round(layer.B[o] / biasScale, MidpointRounding.ToEven), int.MinValue, int.MaxValue);
        }
        return new QuantizedLinear(layer.In, layer.Out, weights, scales, bias, input, output);
    }

    /// <summary>
    /// int32 accumulators acc[r, o] = Σ_i (x[r, i] − z_in) · w[o, i] + bias[o], for <paramref name="rows"/> rows.
    /// This is exactly what ONNX MatMulInteger (plus an int32 bias) computes.
    /// </summary>
    public void Accumulate(ReadOnlySpan<sbyte> input, int rows, Span<int> accumulators)
    {
        CheckLengths(input.Length, accumulators.Length, rows);
        var zeroPoint = Input.ZeroPoint;
        for (var r = 0; r < rows; r++)
        {
            var x = input.Slice(r * In, In);
            for (var o = 0; o < Out; o++)
            {
                var w = Weights.AsSpan(o * In, In);
                var dot = 0;
                for (var i = 0; i < In; i++)
                    dot += x[i] * w[i];
                // Σ(x − z)·w = Σx·w − z·Σw, the CMSIS-NN input-offset folding.
                accumulators[r * Out + o] = dot - zeroPoint * _weightRowSums[o] + Bias[o];
            }
        }
    }

    /// <summary>Fixed-point requantization of accumulators to int8 outputs: clamp(z_out + M_c · acc).</summary>
    public void Requantize(ReadOnlySpan<int> accumulators, int rows, Span<sbyte> output)
    {
        CheckLengths(output.Length, accumulators.Length, rows, outputIsInput: true);
        for (var r = 0; r < rows; r++)
        {
            for (var o = 0; o < Out; o++)
            {
                var scaled = FixedPointRequantization.MultiplyByQuantizedMultiplier(accumulators[r * Out + o], _multipliers[o], _shifts[o]);
                output[r * Out + o] = (sbyte)Math.Clamp(scaled + Output.ZeroPoint, QuantizationParameters.Min, QuantizationParameters.Max);
            }
        }
    }

    /// <summary>int8 in, int8 out: the integer kernel the MCU and ONNX Runtime's QGemm both run.</summary>
    public void Evaluate(ReadOnlySpan<sbyte> input, int rows, Span<sbyte> output)
    {
        var accumulators = new int[rows * Out];
        Accumulate(input, rows, accumulators);
        Requantize(accumulators, rows, output);
    }

    /// <summary>Float in, float out through the integer kernel: quantize, integer linear, dequantize.</summary>
    public void Forward(ReadOnlySpan<float> input, int rows, Span<float> output)
    {
        var quantizedInput = new sbyte[rows * In];
        Input.Quantize(input[..(rows * In)], quantizedInput);
        var quantizedOutput = new sbyte[rows * Out];
        Evaluate(quantizedInput, rows, quantizedOutput);
        Output.Dequantize(quantizedOutput, output[..(rows * Out)]);
    }

    /// <summary>Bytes of the parameters as stored: int8 weights, float scales, int32 bias, two (scale, zero point) pairs.</summary>
    public int ParameterBytes => Weights.Length + WeightScales.Length * sizeof(float) + Bias.Length * sizeof(int) + 2 * (sizeof(float) + 1);

    private void CheckLengths(int inputLength, int accumulatorLength, int rows, bool outputIsInput = false)
    {
        var expectedInput = rows * (outputIsInput ? Out : In);
        if (rows < 0 || inputLength < expectedInput || accumulatorLength < rows * Out)
            throw new ArgumentException($"Buffers too small for {rows} rows of a {In}->{Out} layer (got {inputLength} and {accumulatorLength} elements).");
    }
}
