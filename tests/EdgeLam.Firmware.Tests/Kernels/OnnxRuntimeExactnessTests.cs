using EdgeLam.Firmware.Kernels;
using EdgeLam.Firmware.Quantization;
using Microsoft.ML.OnnxRuntime;
using Onnx;
using Xunit.Abstractions;

namespace EdgeLam.Firmware.Tests.Kernels;

/// <summary>
/// The firmware's int8 linear kernels (all variants) in <see cref="RequantizationMode.OnnxRuntimeCompatible"/> mode
/// against ONNX Runtime's own integer operators on the same int8 data, compared byte for byte:
/// QLinearMatMul (ai.onnx) without bias, per-tensor and per-column B scales, and QGemm (com.microsoft) with an int32
/// bias and transB=1 (B = W [Out, In], the firmware layout). The TFLite fixed-point mode is checked against an ORT
/// graph of integer operators (MatMulInteger, int64 Mul/Add/Div) that spells out gemmlowp's rounding.
/// </summary>
public sealed class OnnxRuntimeExactnessTests(ITestOutputHelper log)
{
    private const int CaseCount = 300;

    [Fact]
    public void Qlinearmatmul_equals_every_firmware_linear_kernel_on_300_random_cases()
    {
        int saturated = 0, interior = 0, beyondFloat32Integers = 0;
        for (int seed = 0; seed < CaseCount; seed++)
        {
            var testCase = LinearTestCase.Generate(seed, withBias: false);
            var expected = RunQLinearMatMul(testCase, GraphOptimizationLevel.ORT_ENABLE_ALL);
            foreach (var kernel in LinearTestCase.AllKernelVariants())
                AssertSame(expected, testCase.RunFirmware(kernel, RequantizationMode.OnnxRuntimeCompatible), testCase, kernel.Name);
            Tally(testCase, expected, ref saturated, ref interior, ref beyondFloat32Integers);
        }

        log.WriteLine($"QLinearMatMul: {CaseCount} cases, {saturated} saturated and {interior} interior outputs, {beyondFloat32Integers} accumulators ≥ 2^24, all equal.");
        Assert.True(saturated > 100 && interior > 1000 && beyondFloat32Integers > 100, "the random cases must reach saturation, the interior and accumulators beyond 2^24");
    }

    [Fact]
    public void Qgemm_with_int32_bias_equals_every_firmware_linear_kernel_on_300_random_cases()
    {
        int saturated = 0, interior = 0, beyondFloat32Integers = 0;
        for (int seed = 1000; seed < 1000 + CaseCount; seed++)
        {
            var testCase = LinearTestCase.Generate(seed, withBias: true);
            var expected = RunQGemm(testCase);
            foreach (var kernel in LinearTestCase.AllKernelVariants())
                AssertSame(expected, testCase.RunFirmware(kernel, RequantizationMode.OnnxRuntimeCompatible), testCase, kernel.Name);
            Tally(testCase, expected, ref saturated, ref interior, ref beyondFloat32Integers);
        }

        log.WriteLine($"QGemm: {CaseCount} cases, {saturated} saturated and {interior} interior outputs, {beyondFloat32Integers} accumulators ≥ 2^24, all equal.");
        Assert.True(saturated > 100 && interior > 1000, "the random cases must reach saturation and the interior");
    }

    [Fact]
    public void Tflite_fixed_point_mode_is_not_what_qlinearmatmul_computes()
    {
        // The comparison has teeth: the two requantization arithmetics disagree by one code on some outputs.
        int differing = 0, total = 0;
        for (int seed = 0; seed < 60; seed++)
        {
            var testCase = LinearTestCase.Generate(seed, withBias: false);
            var onnxRuntime = RunQLinearMatMul(testCase, GraphOptimizationLevel.ORT_ENABLE_ALL);
            var fixedPoint = testCase.RunFirmware(new ReferenceInt8LinearKernel(), RequantizationMode.FixedPoint);
            differing += onnxRuntime.Zip(fixedPoint).Count(pair => pair.First != pair.Second);
            total += onnxRuntime.Length;
        }

        log.WriteLine($"TFLite fixed point vs QLinearMatMul: {differing} of {total} outputs differ.");
        Assert.InRange(differing, 1, total / 10);
    }

    [Fact]
    public void Qlinearmatmul_without_graph_optimizations_gives_the_same_bytes()
    {
        for (int seed = 2000; seed < 2040; seed++)
        {
            var testCase = LinearTestCase.Generate(seed, withBias: false);
            var expected = RunQLinearMatMul(testCase, GraphOptimizationLevel.ORT_DISABLE_ALL);
            AssertSame(expected, testCase.RunFirmware(new OptimizedInt8LinearKernel(), RequantizationMode.OnnxRuntimeCompatible), testCase, "optimized");
        }
    }

    [Fact]
    public void Fixed_point_mode_equals_an_onnx_runtime_integer_graph_of_gemmlowp_rounding()
    {
        int interior = 0;
        for (int seed = 3000; seed < 3000 + 100; seed++)
        {
            var testCase = LinearTestCase.Generate(seed, withBias: true);
            var requantizer = new FixedPointRequantizer(testCase.InputQuantization.Scale, testCase.WeightScales, testCase.OutputQuantization);
            var expected = RunFixedPointGraph(testCase, requantizer);
            foreach (var kernel in LinearTestCase.AllKernelVariants())
                AssertSame(expected, testCase.RunFirmware(kernel, RequantizationMode.FixedPoint), testCase, kernel.Name);
            interior += expected.Count(v => v > -128 && v < 127);
        }

        Assert.True(interior > 300);
    }

    [Fact]
    public void Qgemm_reproduces_the_hand_derived_golden_vector_of_the_conformance_suite()
    {
        // Same layer as KernelConformanceTests' golden vectors: ORT rounds 2.5 → 2, −2.5 → −2, 2.375 → 2, 6.25 → 6.
        var golden = new LinearTestCase
        {
            Seed = -1,
            Regime = "golden",
            Rows = 2,
            In = 4,
            Out = 3,
            Input = [3, -1, 5, 1, -7, 9, 0, 2],
            Weights = [1, 2, 3, 4, -5, 0, 5, 10, 127, -128, 0, 1],
            Bias = [10, -20, 3],
            WeightScales = [0.25f, 0.5f, 1f],
            InputQuantization = new QuantizationParameters(0.5f, 1),
            OutputQuantization = new QuantizationParameters(1f, -2),
            SparsityBlockSize = 2,
        };
        Assert.Equal(new sbyte[] { 0, -4, 127, 0, 4, -128 }, RunQGemm(golden));
        Assert.Equal(new sbyte[] { 1, -5, 127, 1, 5, -128 }, RunFixedPointGraph(golden, new FixedPointRequantizer(0.5f, golden.WeightScales, golden.OutputQuantization)));
    }

    [Fact]
    public void Activation_matmul_equals_qlinearmatmul_with_two_dynamic_inputs_and_zero_points()
    {
        int interior = 0;
        for (int seed = 4000; seed < 4150; seed++)
        {
            var random = new Random(seed);
            int rows = random.Next(1, 9), depth = random.Next(1, 33), columns = random.Next(1, 9);
            var left = Enumerable.Range(0, rows * depth).Select(_ => (sbyte)random.Next(-128, 128)).ToArray();
            var right = Enumerable.Range(0, depth * columns).Select(_ => (sbyte)random.Next(-128, 128)).ToArray();
            var leftQuantization = new QuantizationParameters((float)Math.Pow(10, -2.5 + random.NextDouble() * 2), random.Next(-128, 128));
            var rightQuantization = new QuantizationParameters((float)Math.Pow(10, -2.5 + random.NextDouble() * 2), random.Next(-128, 128));
            double typical = Math.Sqrt(depth) * 80 * 80 * leftQuantization.Scale * rightQuantization.Scale;
            var outputQuantization = new QuantizationParameters((float)(typical / 40 * Math.Pow(10, random.NextDouble() * 2 - 1)), random.Next(-128, 128));

            var graph = new OnnxTestGraph()
                .Input("a", TensorProto.Types.DataType.Int8, rows, depth)
                .Input("b", TensorProto.Types.DataType.Int8, depth, columns)
                .Output("y", TensorProto.Types.DataType.Int8, rows, columns)
                .Float("a_scale", [], [leftQuantization.Scale])
                .Int8("a_zero_point", [], [(sbyte)leftQuantization.ZeroPoint])
                .Float("b_scale", [], [rightQuantization.Scale])
                .Int8("b_zero_point", [], [(sbyte)rightQuantization.ZeroPoint])
                .Float("y_scale", [], [outputQuantization.Scale])
                .Int8("y_zero_point", [], [(sbyte)outputQuantization.ZeroPoint])
                .Node("QLinearMatMul", "", ["a", "a_scale", "a_zero_point", "b", "b_scale", "b_zero_point", "y_scale", "y_zero_point"], ["y"]);
            var expected = graph.RunInt8("a", left, [rows, depth], "b", right, [depth, columns], "y");

            var kernel = new Int8MatMulKernel();
            kernel.Prepare(leftQuantization, rightQuantization, outputQuantization, rows, depth, columns, rightTransposed: false, RequantizationMode.OnnxRuntimeCompatible);
            var actual = new sbyte[rows * columns];
            kernel.Eval(left, 0, right, 0, actual, 0);
            Assert.True(expected.SequenceEqual(actual), $"matmul seed {seed}: ORT [{string.Join(",", expected)}] firmware [{string.Join(",", actual)}]");
            interior += expected.Count(v => v > -128 && v < 127);
        }

        Assert.True(interior > 1000);
    }

    private static void Tally(LinearTestCase testCase, sbyte[] expected, ref int saturated, ref int interior, ref int beyondFloat32Integers)
    {
        saturated += expected.Count(v => v == -128 || v == 127);
        interior += expected.Count(v => v > -128 && v < 127);
        beyondFloat32Integers += testCase.Accumulators().Count(a => Math.Abs((long)a) >= 1 << 24);
    }

    private static void AssertSame(sbyte[] expected, sbyte[] actual, LinearTestCase testCase, string kernel)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            if (expected[i] != actual[i])
                Assert.Fail($"{kernel} kernel differs from ONNX Runtime at output {i}: ORT {expected[i]}, firmware {actual[i]}; {testCase}");
    }

    private static long[] WeightScaleShape(LinearTestCase testCase) => testCase.WeightScales.Length == 1 ? [] : [testCase.Out];

    private static sbyte[] RunQLinearMatMul(LinearTestCase testCase, GraphOptimizationLevel optimization)
    {
        // QLinearMatMul computes A·B with B [K, N]: the transpose of the firmware's W [Out, In].
        var transposed = new sbyte[testCase.In * testCase.Out];
        for (int c = 0; c < testCase.Out; c++)
            for (int k = 0; k < testCase.In; k++)
                transposed[k * testCase.Out + c] = testCase.Weights[c * testCase.In + k];
        var scaleShape = WeightScaleShape(testCase);
        var graph = new OnnxTestGraph()
            .Input("x", TensorProto.Types.DataType.Int8, testCase.Rows, testCase.In)
            .Output("y", TensorProto.Types.DataType.Int8, testCase.Rows, testCase.Out)
            .Float("x_scale", [], [testCase.InputQuantization.Scale])
            .Int8("x_zero_point", [], [(sbyte)testCase.InputQuantization.ZeroPoint])
            .Int8("w", [testCase.In, testCase.Out], transposed)
            .Float("w_scale", scaleShape, testCase.WeightScales)
            .Int8("w_zero_point", scaleShape, new sbyte[testCase.WeightScales.Length])
            .Float("y_scale", [], [testCase.OutputQuantization.Scale])
            .Int8("y_zero_point", [], [(sbyte)testCase.OutputQuantization.ZeroPoint])
            .Node("QLinearMatMul", "", ["x", "x_scale", "x_zero_point", "w", "w_scale", "w_zero_point", "y_scale", "y_zero_point"], ["y"]);
        return graph.RunInt8("x", testCase.Input, [testCase.Rows, testCase.In], "y", optimization);
    }

    private static sbyte[] RunQGemm(LinearTestCase testCase)
    {
        var scaleShape = WeightScaleShape(testCase);
        var graph = new OnnxTestGraph()
            .UseOpset("com.microsoft", 1)
            .Input("x", TensorProto.Types.DataType.Int8, testCase.Rows, testCase.In)
            .Output("y", TensorProto.Types.DataType.Int8, testCase.Rows, testCase.Out)
            .Float("x_scale", [], [testCase.InputQuantization.Scale])
            .Int8("x_zero_point", [], [(sbyte)testCase.InputQuantization.ZeroPoint])
            .Int8("w", [testCase.Out, testCase.In], testCase.Weights)
            .Float("w_scale", scaleShape, testCase.WeightScales)
            .Int8("w_zero_point", scaleShape, new sbyte[testCase.WeightScales.Length])
            .Int32("bias", [testCase.Out], testCase.Bias)
            .Float("y_scale", [], [testCase.OutputQuantization.Scale])
            .Int8("y_zero_point", [], [(sbyte)testCase.OutputQuantization.ZeroPoint])
            .Node("QGemm", "com.microsoft", ["x", "x_scale", "x_zero_point", "w", "w_scale", "w_zero_point", "bias", "y_scale", "y_zero_point"], ["y"],
                OnnxTestGraph.IntAttribute("transB", 1));
        return graph.RunInt8("x", testCase.Input, [testCase.Rows, testCase.In], "y");
    }

    /// <summary>
    /// MatMulInteger (exact int32 Σ (x − z_x)·w) + bias, then TFLite's MultiplyByQuantizedMultiplier written with ONNX
    /// integer operators: SaturatingRoundingDoublingHighMul = trunc((acc·M + nudge) / 2^31) (int64 Div truncates like C++),
    /// then RoundingDivideByPOT = sign(v) · ⌊(|v| + 2^(e−1)) / 2^e⌋ (ties away from zero), + z_out, Clip to int8.
    /// Channels whose shift is positive (multiplier ≥ 1/2) multiply by 2^shift first, wrapping in int32 as TFLite does.
    /// </summary>
    private static sbyte[] RunFixedPointGraph(LinearTestCase testCase, FixedPointRequantizer requantizer)
    {
        int n = testCase.Out;
        var multiplier = new long[n];
        var leftScale = new long[n];
        var nudgeHalf = new long[n];
        var divisor = new long[n];
        for (int c = 0; c < n; c++)
        {
            multiplier[c] = requantizer.MultiplierOf(c);
            int shift = requantizer.ShiftOf(c);
            leftScale[c] = shift > 0 ? 1L << shift : 1;
            int rightShift = shift > 0 ? 0 : -shift;
            nudgeHalf[c] = rightShift == 0 ? 0 : 1L << (rightShift - 1);
            divisor[c] = 1L << rightShift;
        }

        var transposed = new sbyte[testCase.In * n];
        for (int c = 0; c < n; c++)
            for (int k = 0; k < testCase.In; k++)
                transposed[k * n + c] = testCase.Weights[c * testCase.In + k];
        var graph = new OnnxTestGraph()
            .Input("x", TensorProto.Types.DataType.Int8, testCase.Rows, testCase.In)
            .Output("y", TensorProto.Types.DataType.Int8, testCase.Rows, n)
            .Int8("x_zero_point", [], [(sbyte)testCase.InputQuantization.ZeroPoint])
            .Int8("w", [testCase.In, n], transposed)
            .Int8("w_zero_point", [], [0])
            .Int32("bias", [n], testCase.Bias)
            .Int64("left_scale", [n], leftScale)
            .Int64("multiplier", [n], multiplier)
            .Int64("nudge_positive", [], [1L << 30])
            .Int64("nudge_negative", [], [1 - (1L << 30)])
            .Int64("two_pow_31", [], [1L << 31])
            .Int64("zero", [], [0])
            .Int64("half", [n], nudgeHalf)
            .Int64("divisor", [n], divisor)
            .Int64("zero_point_out", [], [testCase.OutputQuantization.ZeroPoint])
            .Int64("low", [], [-128])
            .Int64("high", [], [127])
            .Node("MatMulInteger", "", ["x", "w", "x_zero_point", "w_zero_point"], ["product"])
            .Node("Add", "", ["product", "bias"], ["accumulator"])
            .Node("Cast", "", ["accumulator"], ["accumulator64"], OnnxTestGraph.IntAttribute("to", (long)TensorProto.Types.DataType.Int64))
            // x · 2^leftShift is an int32 product in TFLite: it wraps, and Cast int64 → int32 wraps the same way.
            .Node("Mul", "", ["accumulator64", "left_scale"], ["shifted_wide"])
            .Node("Cast", "", ["shifted_wide"], ["shifted32"], OnnxTestGraph.IntAttribute("to", (long)TensorProto.Types.DataType.Int32))
            .Node("Cast", "", ["shifted32"], ["shifted"], OnnxTestGraph.IntAttribute("to", (long)TensorProto.Types.DataType.Int64))
            .Node("Mul", "", ["shifted", "multiplier"], ["wide"])
            .Node("GreaterOrEqual", "", ["wide", "zero"], ["non_negative"])
            .Node("Where", "", ["non_negative", "nudge_positive", "nudge_negative"], ["nudge"])
            .Node("Add", "", ["wide", "nudge"], ["nudged"])
            .Node("Div", "", ["nudged", "two_pow_31"], ["high_mul"])
            .Node("Abs", "", ["high_mul"], ["magnitude"])
            .Node("Sign", "", ["high_mul"], ["sign"])
            .Node("Add", "", ["magnitude", "half"], ["biased"])
            .Node("Div", "", ["biased", "divisor"], ["rounded_magnitude"])
            .Node("Mul", "", ["rounded_magnitude", "sign"], ["scaled"])
            .Node("Add", "", ["scaled", "zero_point_out"], ["offset"])
            .Node("Clip", "", ["offset", "low", "high"], ["clipped"])
            .Node("Cast", "", ["clipped"], ["y"], OnnxTestGraph.IntAttribute("to", (long)TensorProto.Types.DataType.Int8));
        return graph.RunInt8("x", testCase.Input, [testCase.Rows, testCase.In], "y");
    }
}
