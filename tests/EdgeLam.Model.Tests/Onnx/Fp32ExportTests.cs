using EdgeLam.Model.Architecture;
using EdgeLam.Model.Onnx;
using EdgeLam.Model.Tests.Variants;
using EdgeLam.Model.Variants;

namespace EdgeLam.Model.Tests.Onnx;

public sealed class Fp32ExportTests
{
    [Fact]
    public void Every_fp32_stage_in_onnx_runtime_matches_the_managed_reference_within_1e4()
    {
        var weights = TestModels.RandomTiny();
        var config = weights.Config;
        var exporter = new TinyVitOnnxExporter(weights, ModelVariant.Fp32);
        var reference = new ReferenceStageForward(weights, FloatLinearExecutor.Instance);
        const int batch = 5;
        foreach (var stage in ModelStage.Pipeline(config).Append(ModelStage.Whole))
        {
            var input = stage.TakesPixels ? TestModels.RandomPixels(config, batch) : TestModels.RandomTokens(config, batch);
            using var session = new OnnxStageSession(exporter.ExportBytes(stage));
            var onnx = session.Run(input, stage.InputShape(config, batch));
            var managed = reference.Run(stage, input, batch);
            Assert.True(TestModels.MaxAbsDifference(onnx, managed) < 1e-4f, $"{stage}: max abs error {TestModels.MaxAbsDifference(onnx, managed)}");
        }
    }

    [Fact]
    public void Onnx_runtime_matches_the_training_forward_of_the_model_core_on_every_stage()
    {
        var model = TinyVitModel.CreateRandom(TinyVitConfig.Tiny, seed: 3);
        var config = model.Config;
        var exporter = new TinyVitOnnxExporter(model.Weights, ModelVariant.Fp32);
        const int batch = 20;
        foreach (var stage in ModelStage.Pipeline(config).Append(ModelStage.Whole))
        {
            var input = stage.TakesPixels ? TestModels.RandomPixels(config, batch) : TestModels.RandomTokens(config, batch);
            float[] managed = stage.Kind switch
            {
                ModelStageKind.Embedding => model.PatchEmbeddingForward(input, batch),
                ModelStageKind.Block => model.BlockForward(stage.BlockIndex, input, batch),
                ModelStageKind.Head => model.HeadForward(input, batch),
                _ => model.Forward(input, batch),
            };
            using var session = new OnnxStageSession(exporter.ExportBytes(stage));
            var onnx = session.Run(input, stage.InputShape(config, batch));
            var error = TestModels.MaxAbsDifference(onnx, managed);
            Assert.True(error < 1e-4f, $"{stage}: max abs error {error}");
        }
    }
}
