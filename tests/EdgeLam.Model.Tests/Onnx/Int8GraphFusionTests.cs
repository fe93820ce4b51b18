using EdgeLam.Model.Onnx;
using EdgeLam.Model.Quantization;
using EdgeLam.Model.Tests.Variants;
using EdgeLam.Model.Variants;

namespace EdgeLam.Model.Tests.Onnx;

public sealed class Int8GraphFusionTests
{
    [Fact]
    public void Onnx_runtime_fuses_every_int8_dense_layer_into_an_integer_kernel()
    {
        var weights = TestModels.RandomTiny();
        var quantized = QuantizedTinyVit.Calibrate(weights, TestModels.RandomPixels(weights.Config, 32), 32);
        var exporter = new TinyVitOnnxExporter(quantized, ModelVariant.Int8);

        var optimized = OptimizedGraphInspector.Optimize(exporter.ExportBytes(ModelStage.Whole));
        var counts = OptimizedGraphInspector.OperatorCounts(optimized);

        var denseLayers = QuantizedTinyVit.DenseLayers(weights).Count();
        // Every dense layer becomes one QGemm (int8·int8 → int32, requantized); ORT may turn more into integer ops
        // (the Q·Kᵀ product of dequantized int8 tensors becomes MatMulIntegerToFloat).
        Assert.True(counts.GetValueOrDefault("QGemm") == denseLayers, $"expected {denseLayers} QGemm nodes, got: {string.Join(", ", counts.Select(p => $"{p.Key}={p.Value}"))}");
        Assert.False(counts.ContainsKey("Gemm"));
        Assert.Empty(OptimizedGraphInspector.FloatProductsOnQuantizedWeights(optimized));
    }
}
