using EdgeLam.Firmware.Quantization;
using EdgeLam.Model.Onnx;
using EdgeLam.Model.Quantization;
using EdgeLam.Model.Tests.Variants;

namespace EdgeLam.Model.Tests.Quantization;

/// <summary>
/// The managed int8 layers (the firmware kernels) against ONNX Runtime's integer operators on identical int8 inputs,
/// scales and zero points, for every dense layer of a calibrated model.
/// </summary>
public sealed class IntegerLayerAgreementTests
{
    private const int Rows = 48;

    private static readonly QuantizedTinyVit Quantized = QuantizedTinyVit.Calibrate(
        TestModels.RandomTiny(seed: 5), TestModels.RandomPixels(TestModels.RandomTiny().Config, 64, seed: 9), 64);

    private static sbyte[] RandomInt8(int count, int seed)
    {
        var random = new Random(seed);
        var values = new sbyte[count];
        for (var i = 0; i < count; i++)
            values[i] = (sbyte)random.Next(-128, 128);
        return values;
    }

    [Fact]
    public void Int32_accumulators_equal_onnx_runtime_MatMulInteger_exactly()
    {
        foreach (var (name, layer) in QuantizedTinyVit.DenseLayers(Quantized.Source))
        {
            var linear = Quantized.For(layer);
            var input = RandomInt8(Rows * linear.In, seed: name.Length);
            var managed = new int[Rows * linear.Out];
            linear.Accumulate(input, Rows, managed);
            using var session = new OnnxStageSession(IntegerLayerGraphs.Accumulators(linear));
            var onnx = session.Run<sbyte, int>(input, [Rows, linear.In]);
            Assert.True(managed.AsSpan().SequenceEqual(onnx), $"{name}: accumulators differ");
        }
    }

    [Fact]
    public void Requantized_int8_outputs_equal_onnx_runtime_QGemm_exactly_with_the_onnx_runtime_compatible_requantizer()
    {
        foreach (var (name, layer) in QuantizedTinyVit.DenseLayers(Quantized.Source))
        {
            var linear = Quantized.For(layer).WithMode(RequantizationMode.OnnxRuntimeCompatible);
            var input = RandomInt8(Rows * linear.In, seed: 100 + name.Length);
            var managed = new sbyte[Rows * linear.Out];
            linear.Evaluate(input, Rows, managed);
            using var session = new OnnxStageSession(IntegerLayerGraphs.Requantized(linear));
            var onnx = session.Run<sbyte, sbyte>(input, [Rows, linear.In]);
            Assert.True(managed.AsSpan().SequenceEqual(onnx), $"{name}: requantized outputs differ");
        }
    }

    [Fact]
    public void Fixed_point_requantization_stays_within_one_step_of_onnx_runtime()
    {
        int compared = 0, differing = 0;
        foreach (var (name, layer) in QuantizedTinyVit.DenseLayers(Quantized.Source))
        {
            var linear = Quantized.For(layer).WithMode(RequantizationMode.FixedPoint);
            var input = RandomInt8(Rows * linear.In, seed: 200 + name.Length);
            var managed = new sbyte[Rows * linear.Out];
            linear.Evaluate(input, Rows, managed);
            using var session = new OnnxStageSession(IntegerLayerGraphs.Requantized(linear));
            var onnx = session.Run<sbyte, sbyte>(input, [Rows, linear.In]);
            for (var i = 0; i < managed.Length; i++)
            {
                Assert.InRange(managed[i] - onnx[i], -1, 1);
                differing += managed[i] != onnx[i] ? 1 : 0;
            }
            compared += managed.Length;
        }
        // Only rounding ties and float32 rounding of ORT's product can differ: a small fraction of outputs.
        Assert.True(differing * 100 <= compared, $"{differing} of {compared} outputs differ");
    }
}
