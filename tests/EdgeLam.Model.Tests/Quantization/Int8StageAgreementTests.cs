using EdgeLam.Model.Onnx;
using EdgeLam.Model.Tests.Variants;
using EdgeLam.Model.Variants;
using Xunit.Abstractions;

namespace EdgeLam.Model.Tests.Quantization;

/// <summary>
/// The managed INT8 reference of each stage against the exported INT8 stage in ONNX Runtime. Dense layers are
/// bit-exact on equal int8 inputs (see IntegerLayerAgreementTests); the float parts (LayerNorm, softmax, GELU,
/// residuals) may round differently, which can move a value across a quantization boundary by one step.
/// </summary>
public sealed class Int8StageAgreementTests(ITestOutputHelper output)
{
    [Fact]
    public void Managed_int8_reference_agrees_with_onnx_runtime_on_every_stage()
    {
        var weights = TestModels.RandomTiny(seed: 41);
        var config = weights.Config;
        var int8 = VariantModel.Int8(weights, TestModels.RandomPixels(config, 64, seed: 3), 64, new VariantBuildOptions());
        const int batch = 8;
        foreach (var stage in ModelStage.Pipeline(config).Append(ModelStage.Whole))
        {
            var input = stage.TakesPixels ? TestModels.RandomPixels(config, batch, seed: 5) : TestModels.RandomTokens(config, batch, seed: 6);
            using var session = new OnnxStageSession(int8.Export(stage));
            var onnx = session.Run(input, stage.InputShape(config, batch));
            var managed = int8.Managed.Run(stage, input, batch);
            var same = onnx.Zip(managed).Count(pair => MathF.Abs(pair.First - pair.Second) <= 1e-4f);
            output.WriteLine($"{stage}: {same} of {onnx.Length} equal within 1e-4, max difference {TestModels.MaxAbsDifference(onnx, managed)}");
            Assert.True(same >= onnx.Length * 0.99, $"{stage}: only {same} of {onnx.Length} values agree");
            if (stage.Kind is ModelStageKind.Embedding)
                Assert.Equal(onnx.Length, same); // pixels quantize exactly (scale 1/255): nothing float comes before the integer layer
        }
    }
}
