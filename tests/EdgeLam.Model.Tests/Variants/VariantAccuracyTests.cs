using EdgeLam.Model.Onnx;
using EdgeLam.Model.Tests.Data;
using EdgeLam.Model.Variants;
using Xunit.Abstractions;

namespace EdgeLam.Model.Tests.Variants;

public sealed class VariantAccuracyTests(ITestOutputHelper output)
{
    [Fact]
    public void Variant_accuracies_keep_their_order_on_a_slice_of_the_test_set()
    {
        var model = TrainedTinyModel.Model;
        var variants = VariantModel.BuildAll(model.Weights, SharedData.Fashion.Train.Take(256), new VariantBuildOptions { CalibrationImages = 256 });
        var test = SharedData.Fashion.Test.Take(400);

        var reports = VariantAccuracy.Measure(variants, test, batchSize: 200).ToDictionary(r => r.Variant);
        foreach (var report in reports.Values)
            output.WriteLine($"{report.Variant}: whole {report.WholeModel:P2}; {string.Join(", ", report.SwappedStages.Select(p => $"{p.Key} {p.Value:P2}"))}; {variants[report.Variant].SerializedBytes()} bytes");

        var fp32 = reports[ModelVariant.Fp32].WholeModel;
        Assert.Equal(model.Evaluate(test), fp32, precision: 6);
        Assert.True(fp32 > 0.6, $"the briefly trained model should be well above chance, got {fp32:P1}");
        Assert.InRange(reports[ModelVariant.Fp16].WholeModel, fp32 - 0.01, fp32 + 0.01);
        Assert.InRange(reports[ModelVariant.Int8].WholeModel, fp32 - 0.03, fp32 + 0.03);
        Assert.InRange(reports[ModelVariant.PrunedInt8].WholeModel, fp32 - 0.08, fp32 + 0.05);
        foreach (var (stage, accuracy) in reports[ModelVariant.Fp32].SwappedStages)
            Assert.True(Math.Abs(accuracy - fp32) < 1e-9, $"FP32 swapped into FP32 must not change accuracy ({stage})");
    }

    [Fact]
    public void Serialized_sizes_of_the_default_model_follow_the_storage_precision()
    {
        var weights = TestModels.RandomTiny(seed: 2, config: new EdgeLam.Model.Architecture.TinyVitConfig());
        var variants = VariantModel.BuildAll(weights, SharedData.Fashion.Train.Take(16), new VariantBuildOptions { CalibrationImages = 16 });
        var bytes = variants.ToDictionary(pair => pair.Key, pair => pair.Value.SerializedBytes());
        output.WriteLine(string.Join(", ", bytes.Select(pair => $"{pair.Key} {pair.Value} bytes")));

        // FP32 is the parameters plus a small graph; FP16 halves it; INT8 weights take a quarter, plus int32 biases,
        // per-channel scales, float LayerNorm/position parameters and the Q/DQ scaffolding.
        var parameters = weights.ParameterCount;
        Assert.InRange(bytes[ModelVariant.Fp32], parameters * 4, parameters * 4.2);
        Assert.InRange(bytes[ModelVariant.Fp16], bytes[ModelVariant.Fp32] * 0.5, bytes[ModelVariant.Fp32] * 0.55);
        Assert.InRange(bytes[ModelVariant.Int8], parameters, bytes[ModelVariant.Fp32] * 0.4);
        Assert.True(bytes[ModelVariant.PrunedInt8] < bytes[ModelVariant.Int8]);
    }

    [Fact]
    public void Fp16_graph_in_onnx_runtime_matches_the_managed_forward_on_half_rounded_weights()
    {
        var weights = TestModels.RandomTiny(seed: 17);
        var fp16 = VariantModel.Fp16(weights);
        var config = weights.Config;
        const int batch = 6;
        foreach (var stage in ModelStage.Pipeline(config).Append(ModelStage.Whole))
        {
            var input = stage.TakesPixels ? TestModels.RandomPixels(config, batch) : TestModels.RandomTokens(config, batch);
            using var session = new OnnxStageSession(fp16.Export(stage));
            var error = TestModels.MaxAbsDifference(session.Run(input, stage.InputShape(config, batch)), fp16.Managed.Run(stage, input, batch));
            Assert.True(error < 1e-4f, $"{stage}: max abs error {error}");
        }
    }
}
