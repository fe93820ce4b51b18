using System.Numerics;
using EdgeLam.Firmware.Kernels;
using EdgeLam.Firmware.Quantization;
using Xunit.Abstractions;

namespace EdgeLam.Firmware.Tests.Kernels;

/// <summary>
/// The one conformance suite of the INT8 kernels (TFLite Micro style): hand-derived golden vectors and seeded random
/// cases that every variant — reference and optimized, dense and structured-sparse — must reproduce with tolerance 0,
/// plus the measured error of each integer approximation (GELU, softmax, exp, LayerNorm, add) against float math,
/// asserted below a stated bound.
/// </summary>
public sealed class KernelConformanceTests(ITestOutputHelper log)
{
    // ---- Golden vectors: int8 linear, In=4, Out=3, two rows (derivation in comments). ----
    // x − z_x (z_x = 1): row0 [2, −2, 4, 0], row1 [−8, 8, −1, 1]; W rows [1,2,3,4], [−5,0,5,10], [127,−128,0,1];
    // bias [10, −20, 3] → acc row0 [20, −10, 513], row1 [19, 25, −2036]. s_x = 0.5, s_w = [0.25, 0.5, 1], s_y = 1,
    // z_y = −2 → real multipliers [1/8, 1/4, 1/2].
    private static readonly sbyte[] GoldenInput = [3, -1, 5, 1, -7, 9, 0, 2];
    private static readonly sbyte[] GoldenWeights = [1, 2, 3, 4, -5, 0, 5, 10, 127, -128, 0, 1];
    private static readonly int[] GoldenBias = [10, -20, 3];
    private static readonly float[] GoldenWeightScales = [0.25f, 0.5f, 1f];

    // TFLite: gemmlowp rounds twice (high mul, then shift): 20/8 → 10 → 2.5 → 3, 19/8 → 10 → 3, 25/4 → 13 → 7, −10/4 → −5 → −3.
    private static readonly sbyte[] GoldenFixedPoint = [1, -5, 127, 1, 5, -128];

    // ONNX Runtime: round half to even of acc·scale: 2.5 → 2, −2.5 → −2, 2.375 → 2, 6.25 → 6.
    private static readonly sbyte[] GoldenOnnxRuntime = [0, -4, 127, 0, 4, -128];

    // Pruned (block size 2): channel 1 loses inputs 0–1 (acc row0 0, row1 −15), channel 2 is removed (acc = bias 3).
    // TFLite: −15/4 → −7 → −4 (−3.75), 3/2 → 2 → 2; ONNX Runtime: −3.75 → −4, 1.5 → 2.
    private static readonly sbyte[] GoldenSparseFixedPoint = [1, -2, 0, 1, -6, 0];
    private static readonly sbyte[] GoldenSparseOnnxRuntime = [0, -2, 0, 0, -6, 0];

    public static TheoryData<string> LinearVariants => new() { "reference", "optimized", "sparse-reference", "sparse-optimized" };

    [Theory]
    [MemberData(nameof(LinearVariants))]
    public void Linear_golden_vectors(string variant)
    {
        Assert.Equal(GoldenFixedPoint, RunGolden(variant, RequantizationMode.FixedPoint, pruned: false));
        Assert.Equal(GoldenOnnxRuntime, RunGolden(variant, RequantizationMode.OnnxRuntimeCompatible, pruned: false));
    }

    [Theory]
    [MemberData(nameof(LinearVariants))]
    public void Sparse_linear_golden_vectors(string variant)
    {
        Assert.Equal(GoldenSparseFixedPoint, RunGolden(variant, RequantizationMode.FixedPoint, pruned: true));
        Assert.Equal(GoldenSparseOnnxRuntime, RunGolden(variant, RequantizationMode.OnnxRuntimeCompatible, pruned: true));
    }

    [Theory]
    [MemberData(nameof(LinearVariants))]
    public void Linear_variant_equals_the_independent_oracle_on_250_random_cases(string variant)
    {
        for (int seed = 5000; seed < 5250; seed++)
        {
            var testCase = LinearTestCase.Generate(seed, withBias: true);
            var accumulators = testCase.Accumulators();
            foreach (var mode in new[] { RequantizationMode.FixedPoint, RequantizationMode.OnnxRuntimeCompatible })
            {
                var actual = testCase.RunFirmware(CreateLinear(variant), mode);
                for (int i = 0; i < actual.Length; i++)
                {
                    int channel = i % testCase.Out;
                    float weightScale = testCase.WeightScales[testCase.WeightScales.Length == 1 ? 0 : channel];
                    int expected = mode == RequantizationMode.FixedPoint
                        ? OracleFixedPoint(accumulators[i], (double)testCase.InputQuantization.Scale * weightScale / testCase.OutputQuantization.Scale, testCase.OutputQuantization.ZeroPoint)
                        : OracleFloat32(accumulators[i], testCase.InputQuantization.Scale, weightScale, testCase.OutputQuantization);
                    if (expected != actual[i])
                        Assert.Fail($"{variant} {mode} output {i}: expected {expected}, got {actual[i]}; {testCase}");
                }
            }
        }
    }

    [Fact]
    public void Sparse_kernels_skip_pruned_work_and_reject_a_layer_without_a_mask()
    {
        var testCase = LinearTestCase.Generate(4, withBias: true); // seed % 5 == 4: pruned regime
        var layer = testCase.Layer();
        var kernel = new OptimizedSparseInt8LinearKernel();
        kernel.Prepare(layer, testCase.InputQuantization, testCase.OutputQuantization, RequantizationMode.FixedPoint);
        int nonZero = testCase.Weights.Count(w => w != 0);
        Assert.InRange(kernel.PackedWeightCount, nonZero, testCase.Weights.Length - 1);

        var dense = new QuantizedLinearWeights(2, 2, [1, 2, 3, 4], [0, 0], [1f, 1f]);
        var parameters = new QuantizationParameters(1f, 0);
        var error = Assert.Throws<ArgumentException>(() => new ReferenceSparseInt8LinearKernel().Prepare(dense, parameters, parameters, RequantizationMode.FixedPoint));
        Assert.Contains("block mask", error.Message);
    }

    [Fact]
    public void Linear_kernels_reject_bad_shapes_and_eval_before_prepare()
    {
        Assert.Throws<ArgumentException>(() => new QuantizedLinearWeights(3, 2, new sbyte[5], new int[2], [1f, 1f]));
        Assert.Throws<ArgumentException>(() => new QuantizedLinearWeights(3, 2, new sbyte[6], new int[3], [1f, 1f]));
        Assert.Throws<ArgumentOutOfRangeException>(() => new QuantizedLinearWeights(3, 2, new sbyte[6], new int[2], [1f, 0f]));
        var kernel = new OptimizedInt8LinearKernel();
        Assert.Throws<InvalidOperationException>(() => kernel.Eval(new sbyte[3], 0, 1, new sbyte[2], 0));
        kernel.Prepare(new QuantizedLinearWeights(3, 2, new sbyte[6], new int[2], [1f, 1f]), new QuantizationParameters(1f, 0), new QuantizationParameters(1f, 0), RequantizationMode.FixedPoint);
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => kernel.Eval(new sbyte[5], 0, 2, new sbyte[4], 0));
        Assert.Contains("input", error.Message);
    }

    [Fact]
    public void Quantizing_a_float_layer_gives_symmetric_per_channel_weights()
    {
        float[] weights = [0.5f, -1f, 0.25f, 0f, 0f, 0f];
        var layer = QuantizedLinearWeights.Quantize(3, 2, weights, [0.1f, 0f], 0.01f);
        Assert.Equal([64, -127, 32, 0, 0, 0], layer.Weights.Select(w => (int)w));
        Assert.Equal(1f / 127f, layer.WeightScales[0]);
        Assert.Equal(1f, layer.WeightScales[1]);
        Assert.Equal(1270, layer.Bias[0]);
    }

    // ---- GELU lookup table ----

    [Fact]
    public void Gelu_golden_vectors()
    {
        // s_x = 0.1, z_x = 0; s_y = 0.05, z_y = −10. GELU(1) = 0.84134 → 16.83 → 17 − 10 = 7; GELU(−1) = −0.15866 →
        // −3.17 → −3 − 10 = −13; GELU(2) = 1.95450 → 39.09 → 29; GELU(12.7)/0.05 saturates; GELU(−12.8) ≈ −0 → −10.
        var kernel = new Int8GeluLookupKernel();
        kernel.Prepare(new QuantizationParameters(0.1f, 0), new QuantizationParameters(0.05f, -10));
        sbyte[] input = [0, 10, -10, 20, 127, -128];
        var output = new sbyte[input.Length];
        kernel.Eval(input, 0, output, 0, input.Length);
        Assert.Equal(new sbyte[] { -10, 7, -13, 29, 127, -10 }, output);
    }

    [Fact]
    public void Gelu_error_is_within_half_an_output_step()
    {
        var random = new Random(41);
        double worstInSteps = 0, worstAbsolute = 0;
        for (int trial = 0; trial < 60; trial++)
        {
            var input = new QuantizationParameters((float)(0.005 + (0.1 * random.NextDouble())), random.Next(-128, 128));
            // Output range from the GELU of the input range, as a calibrator would choose it.
            float low = (float)PortableMath.Gelu(-0.75), high = (float)PortableMath.Gelu((127 - input.ZeroPoint) * input.Scale);
            var output = QuantizationParameters.FromRange(low, Math.Max(high, 0.1f));
            var kernel = new Int8GeluLookupKernel();
            kernel.Prepare(input, output);
            for (int q = -128; q <= 127; q++)
            {
                double x = input.Dequantize((sbyte)q);
                double exact = x * 0.5 * (1 + Erf(x / Math.Sqrt(2)));
                sbyte code = kernel.Lookup((sbyte)q);
                if (code == -128 || code == 127) continue;
                double error = Math.Abs(output.Dequantize(code) - exact);
                worstAbsolute = Math.Max(worstAbsolute, error);
                worstInSteps = Math.Max(worstInSteps, error / output.Scale);
            }
        }

        log.WriteLine($"GELU LUT: max |error| = {worstInSteps:F4} output steps ({worstAbsolute:E3} absolute) over 60 quantizations.");
        Assert.True(worstInSteps <= 0.5 + 1e-4, $"GELU error {worstInSteps} steps");
    }

    // ---- Softmax ----

    [Fact]
    public void Softmax_golden_vectors()
    {
        // s_x = 0.1: logits [1.0, 0] → p = [0.73106, 0.26894] → ·256 = [187.15, 68.85] → [187, 69] − 128 = [59, −59];
        // equal logits → 0.5 → 128 − 128 = 0; one certain class → 256 saturates to 127.
        var kernel = new Int8SoftmaxKernel();
        kernel.Prepare(new QuantizationParameters(0.1f, 0), 2, 1.0);
        sbyte[] input = [10, 0, 5, 5, 127, -128];
        var output = new sbyte[input.Length];
        kernel.Eval(input, 0, 3, output, 0);
        Assert.Equal(new sbyte[] { 59, -59, 0, 0, 127, -128 }, output);
        Assert.Equal(65536, kernel.ExponentialOf(0));
        Assert.Equal(24109, kernel.ExponentialOf(10));
    }

    [Fact]
    public void Softmax_and_its_exp_table_errors_are_bounded()
    {
        var random = new Random(43);
        double worstProbability = 0, worstExp = 0;
        for (int trial = 0; trial < 300; trial++)
        {
            int length = random.Next(2, 65);
            var input = new QuantizationParameters((float)(0.01 + (0.2 * random.NextDouble())), random.Next(-128, 128));
            double beta = trial % 2 == 0 ? 1.0 : 0.25; // 1/√d_head for d_head = 16
            var kernel = new Int8SoftmaxKernel();
            kernel.Prepare(input, length, beta);
            for (int d = 0; d < 256; d++)
                worstExp = Math.Max(worstExp, Math.Abs((kernel.ExponentialOf(d) / 65536.0) - Math.Exp(-beta * input.Scale * d)));
            var logits = new sbyte[length];
            for (int i = 0; i < length; i++) logits[i] = (sbyte)random.Next(-128, 128);
            var output = new sbyte[length];
            kernel.Eval(logits, 0, 1, output, 0);
            double max = logits.Max(q => (double)input.Dequantize(q));
            double sum = logits.Sum(q => Math.Exp(beta * (input.Dequantize(q) - max)));
            for (int i = 0; i < length; i++)
            {
                double exact = Math.Exp(beta * (input.Dequantize(logits[i]) - max)) / sum;
                worstProbability = Math.Max(worstProbability, Math.Abs(Int8SoftmaxKernel.OutputQuantization.Dequantize(output[i]) - exact));
            }
        }

        log.WriteLine($"Softmax: max |p error| = {worstProbability:E3} ({worstProbability * 256:F3} output steps of 1/256); exp table max |error| = {worstExp:E3}.");
        Assert.True(worstExp <= 0.5 / 65536 + 1e-12, $"exp table error {worstExp}");
        Assert.True(worstProbability <= 1.0 / 256, $"softmax error {worstProbability}");
    }

    // ---- LayerNorm ----

    [Fact]
    public void Layer_norm_golden_vectors()
    {
        // s_x = 0.1: row [1, 2, 3, 4], mean 2.5, variance 1.25 → n = [−1.3416, −0.4472, 0.4472, 1.3416];
        // γ = [1, 1, 2, 0.5], β = [0, 0.5, 0, −1] → [−1.3416, 0.0528, 0.8944, −0.3292] / 0.02 → [−67, 3, 45, −16].
        var kernel = new Int8LayerNormKernel();
        kernel.Prepare([1f, 1f, 2f, 0.5f], [0f, 0.5f, 0f, -1f], 1e-5, new QuantizationParameters(0.1f, 0), new QuantizationParameters(0.02f, 0));
        sbyte[] input = [10, 20, 30, 40, 7, 7, 7, 7];
        var output = new sbyte[input.Length];
        kernel.Eval(input, 0, 2, output, 0);
        // A constant row normalizes to 0: the output is β alone ([0, 25, 0, −50]).
        Assert.Equal(new sbyte[] { -67, 3, 45, -16, 0, 25, 0, -50 }, output);
    }

    [Fact]
    public void Layer_norm_error_is_about_half_an_output_step()
    {
        var random = new Random(47);
        double worstInSteps = 0;
        for (int trial = 0; trial < 300; trial++)
        {
            int width = random.Next(2, 129);
            var input = new QuantizationParameters((float)(0.002 + (0.1 * random.NextDouble())), random.Next(-100, 100));
            var gamma = Enumerable.Range(0, width).Select(_ => (float)(0.5 + random.NextDouble())).ToArray();
            var beta = Enumerable.Range(0, width).Select(_ => (float)(random.NextDouble() - 0.5)).ToArray();
            var output = QuantizationParameters.FromRange(-4f, 4f);
            var kernel = new Int8LayerNormKernel();
            kernel.Prepare(gamma, beta, 1e-5, input, output);
            var row = new sbyte[width];
            int spread = random.Next(1, 128);
            for (int i = 0; i < width; i++) row[i] = (sbyte)Math.Clamp(input.ZeroPoint + random.Next(-spread, spread + 1), -128, 127);
            var result = new sbyte[width];
            kernel.Eval(row, 0, 1, result, 0);
            var x = row.Select(q => (double)input.Dequantize(q)).ToArray();
            double mean = x.Average();
            double variance = x.Sum(v => (v - mean) * (v - mean)) / width;
            for (int i = 0; i < width; i++)
            {
                double exact = ((x[i] - mean) / Math.Sqrt(variance + 1e-5) * gamma[i]) + beta[i];
                if (result[i] == -128 || result[i] == 127) continue;
                worstInSteps = Math.Max(worstInSteps, Math.Abs(output.Dequantize(result[i]) - exact) / output.Scale);
            }
        }

        log.WriteLine($"LayerNorm: max |error| = {worstInSteps:F4} output steps over 300 random rows.");
        Assert.True(worstInSteps <= 0.52, $"LayerNorm error {worstInSteps} steps");
    }

    // ---- Residual add ----

    [Fact]
    public void Add_golden_vectors()
    {
        // a: s 0.1 z 0 → [1, −2]; b: s 0.2 z 10 → [4, −2]; sum [5, −4] / 0.3 = [16.67, −13.33] → [17, −13] − 5.
        var kernel = new Int8AddKernel();
        kernel.Prepare(new QuantizationParameters(0.1f, 0), new QuantizationParameters(0.2f, 10), new QuantizationParameters(0.3f, -5));
        var output = new sbyte[2];
        kernel.Eval([10, -20], 0, [30, 0], 0, output, 0, 2);
        Assert.Equal(new sbyte[] { 12, -18 }, output);
    }

    [Fact]
    public void Add_error_is_within_half_an_output_step()
    {
        var random = new Random(53);
        double worstInSteps = 0;
        for (int trial = 0; trial < 300; trial++)
        {
            var first = new QuantizationParameters((float)(0.01 + (0.1 * random.NextDouble())), random.Next(-128, 128));
            var second = new QuantizationParameters((float)(0.01 + (0.1 * random.NextDouble())), random.Next(-128, 128));
            var output = new QuantizationParameters((float)(0.02 + (0.2 * random.NextDouble())), random.Next(-128, 128));
            var kernel = new Int8AddKernel();
            kernel.Prepare(first, second, output);
            var a = Enumerable.Range(0, 64).Select(_ => (sbyte)random.Next(-128, 128)).ToArray();
            var b = Enumerable.Range(0, 64).Select(_ => (sbyte)random.Next(-128, 128)).ToArray();
            var sum = new sbyte[64];
            kernel.Eval(a, 0, b, 0, sum, 0, 64);
            for (int i = 0; i < 64; i++)
            {
                if (sum[i] == -128 || sum[i] == 127) continue;
                double exact = first.Dequantize(a[i]) + (double)second.Dequantize(b[i]);
                worstInSteps = Math.Max(worstInSteps, Math.Abs(output.Dequantize(sum[i]) - exact) / output.Scale);
            }
        }

        log.WriteLine($"Add: max |error| = {worstInSteps:F4} output steps.");
        Assert.True(worstInSteps <= 0.5 + 1e-3, $"add error {worstInSteps} steps");
    }

    // ---- Activation × activation matmul ----

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Matmul_golden_vectors(bool rightTransposed)
    {
        // [[1,2],[3,4]]·[[5,6],[7,8]] = [[19,22],[43,50]], scale 1/4 → [4.75, 5.5, 10.75, 12.5]:
        // TFLite [5, 6, 11, 13] (ties away), ONNX Runtime [5, 6, 11, 12] (ties to even).
        sbyte[] left = [1, 2, 3, 4];
        sbyte[] right = rightTransposed ? [5, 7, 6, 8] : [5, 6, 7, 8];
        var unit = new QuantizationParameters(1f, 0);
        var output = new QuantizationParameters(4f, 0);
        foreach (var (mode, expected) in new[] { (RequantizationMode.FixedPoint, new sbyte[] { 5, 6, 11, 13 }), (RequantizationMode.OnnxRuntimeCompatible, new sbyte[] { 5, 6, 11, 12 }) })
        {
            var kernel = new Int8MatMulKernel();
            kernel.Prepare(unit, unit, output, 2, 2, 2, rightTransposed, mode);
            var result = new sbyte[4];
            kernel.Eval(left, 0, right, 0, result, 0);
            Assert.Equal(expected, result);
        }
    }

    [Fact]
    public void Matmul_with_head_strides_equals_matmul_of_copied_heads()
    {
        // Q·Kᵀ of head 1 inside [tokens=5, model=8] tensors with 2 heads of 4 equals the product of the copied slices.
        var random = new Random(59);
        var q = Enumerable.Range(0, 40).Select(_ => (sbyte)random.Next(-128, 128)).ToArray();
        var k = Enumerable.Range(0, 40).Select(_ => (sbyte)random.Next(-128, 128)).ToArray();
        var parameters = new QuantizationParameters(0.05f, 3);
        var output = new QuantizationParameters(0.5f, -7);
        var kernel = new Int8MatMulKernel();
        kernel.Prepare(parameters, parameters, output, 5, 4, 5, rightTransposed: true, RequantizationMode.FixedPoint);
        var strided = new sbyte[25];
        kernel.Eval(q, 4, 8, k, 4, 8, strided, 0, 5);
        var qHead = Enumerable.Range(0, 5).SelectMany(t => q.Skip(t * 8 + 4).Take(4)).ToArray();
        var kHead = Enumerable.Range(0, 5).SelectMany(t => k.Skip(t * 8 + 4).Take(4)).ToArray();
        var copied = new sbyte[25];
        kernel.Eval(qHead, 0, kHead, 0, copied, 0);
        Assert.Equal(copied, strided);
        Assert.Throws<ArgumentOutOfRangeException>(() => kernel.Eval(q, 8, 8, k, 4, 8, strided, 0, 5));
    }

    private static sbyte[] RunGolden(string variant, RequantizationMode mode, bool pruned)
    {
        var layer = new QuantizedLinearWeights(4, 3, (sbyte[])GoldenWeights.Clone(), (int[])GoldenBias.Clone(), (float[])GoldenWeightScales.Clone());
        var mask = new StructuredSparsityMask(4, 3, 2);
        if (pruned)
        {
            mask.SetKept(1, 0, false);
            mask.PruneChannel(2);
        }

        layer.ApplySparsity(mask);
        var kernel = CreateLinear(variant);
        kernel.Prepare(layer, new QuantizationParameters(0.5f, 1), new QuantizationParameters(1f, -2), mode);
        var output = new sbyte[6];
        kernel.Eval(GoldenInput, 0, 2, output, 0);
        return output;
    }

    private static IInt8LinearKernel CreateLinear(string variant) => variant switch
    {
        "reference" => new ReferenceInt8LinearKernel(),
        "optimized" => new OptimizedInt8LinearKernel(),
        "sparse-reference" => new ReferenceSparseInt8LinearKernel(),
        "sparse-optimized" => new OptimizedSparseInt8LinearKernel(),
        _ => throw new ArgumentOutOfRangeException(nameof(variant), variant, "unknown kernel variant"),
    };

    /// <summary>TFLite's fixed point from its definition, in BigInteger: frexp multiplier, floor(x·M/2^31 + 1/2), then ties-away shift.</summary>
    private static int OracleFixedPoint(int accumulator, double real, int zeroPoint)
    {
        int exponent = Math.ILogB(real) + 1;
        long multiplier = (long)Math.Round(real / Math.Pow(2, exponent) * 2147483648.0, MidpointRounding.AwayFromZero);
        if (multiplier == 1L << 31) { multiplier /= 2; exponent++; }
        int left = Math.Max(exponent, 0), right = Math.Max(-exponent, 0);
        BigInteger shifted = unchecked(accumulator * (1 << left));
        BigInteger high = FloorDivide((2 * shifted * multiplier) + (BigInteger.One << 31), BigInteger.One << 32);
        BigInteger magnitude = BigInteger.Abs(high);
        BigInteger rounded = right == 0 ? magnitude : (magnitude + (BigInteger.One << (right - 1))) >> right;
        return Math.Clamp((int)(high < 0 ? -rounded : rounded) + zeroPoint, -128, 127);
    }

    /// <summary>ONNX Runtime's MlasRequantizeOutput in real float32 arithmetic.</summary>
    private static int OracleFloat32(int accumulator, float inputScale, float weightScale, QuantizationParameters output)
    {
        float scale = (float)((float)(inputScale * weightScale) / output.Scale);
        float product = (float)((float)accumulator * scale);
        float clamped = Math.Clamp(product, -128f - output.ZeroPoint, 127f - output.ZeroPoint);
        return (int)MathF.Round(clamped, MidpointRounding.ToEven) + output.ZeroPoint;
    }

    private static BigInteger FloorDivide(BigInteger numerator, BigInteger denominator)
    {
        var quotient = BigInteger.DivRem(numerator, denominator, out var remainder);
        return remainder < 0 ? quotient - 1 : quotient;
    }

    /// <summary>erf from System.Math-free double series (the test's own oracle, independent of PortableMath).</summary>
    private static double Erf(double x)
    {
        // Abramowitz & Stegun 7.1.26 is too coarse; integrate the Gaussian with Simpson's rule instead.
        int steps = 600;
        double h = x / steps, sum = 0;
        for (int i = 0; i <= steps; i++)
        {
            double weight = i == 0 || i == steps ? 1 : i % 2 == 1 ? 4 : 2;
            sum += weight * Math.Exp(-(i * h) * (i * h));
        }

        return 2 / Math.Sqrt(Math.PI) * sum * h / 3;
    }
}
