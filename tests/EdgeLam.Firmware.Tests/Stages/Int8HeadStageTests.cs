using EdgeLam.Contracts.Wire;
using EdgeLam.Model.Quantization;
using EdgeLam.Firmware.Quantization;
using EdgeLam.Firmware.Stages;
using EdgeLam.Firmware.Tests.Emulator;
using EdgeLam.Model.Architecture;

namespace EdgeLam.Firmware.Tests.Stages;

public sealed class Int8HeadStageTests
{
    [Fact]
    public void The_integer_head_predicts_like_the_float_head_on_real_test_images()
    {
        var model = TestModel.Model;
        var config = model.Weights.Config;
        var calibration = model.Data.Train.ScaledPixels(0, 256);
        var blob = Int8StageBlob.Decode(Int8StageBlobBuilder.Head(model.Weights, calibration, 256));
        var head = new Int8HeadStage(blob, RequantizationMode.FixedPoint);

        const int images = 300;
        var reference = new TinyVitModel(model.Weights);
        var activations = reference.NewActivations(images);
        reference.ForwardGroup(model.Data.Test.ScaledPixels(0, images), images, activations);
        var tokens = activations.BlockInputs[config.Layers][..(images * config.Tokens * config.ModelDim)];
        var output = head.Run(TensorFrame.FromFloatArray(tokens, [images, config.Tokens, config.ModelDim], TensorDataType.Float32));

        Assert.Equal([images, config.Classes], output.Shape);
        var integerPredictions = ArgMax(output.ToInt8Array().Select(v => (float)v).ToArray(), images, config.Classes);
        var floatPredictions = TinyVitModel.ArgMax(activations.Logits, images, config.Classes);
        var agreement = integerPredictions.Zip(floatPredictions).Count(p => p.First == p.Second) / (double)images;
        Assert.True(agreement >= 0.95, $"integer head agrees with the float head on {agreement:P1} of test images");
    }

    [Fact]
    public void A_blob_with_a_wrong_format_or_missing_frame_is_refused_by_name()
    {
        var shape = Int8StageBlobBuilder.HeadShape(TinyVitConfig.Tiny);
        var bundle = new TensorBundle(Int8StageBlob.HeaderFor(shape));
        var blob = Int8StageBlob.Decode(TensorBundleCodec.Encode(bundle));
        var error = Assert.Throws<WireFormatException>(() => new Int8HeadStage(blob, RequantizationMode.FixedPoint));
        Assert.Contains("quant.input", error.Message + error.Field, StringComparison.Ordinal);
    }

    private static int[] ArgMax(float[] values, int rows, int columns) => TinyVitModel.ArgMax(values, rows, columns);
}
