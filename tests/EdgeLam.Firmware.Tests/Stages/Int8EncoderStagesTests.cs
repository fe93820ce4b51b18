using EdgeLam.Contracts.Wire;
using EdgeLam.Firmware.Emulator.Stages;
using EdgeLam.Firmware.Kernels;
using EdgeLam.Firmware.Memory;
using EdgeLam.Firmware.Quantization;
using EdgeLam.Firmware.Stages;
using EdgeLam.Firmware.Tests.Emulator;
using EdgeLam.Model.Architecture;
using EdgeLam.Model.Onnx;
using EdgeLam.Model.Quantization;
using EdgeLam.Model.Variants;
using Xunit.Abstractions;

namespace EdgeLam.Firmware.Tests.Stages;

/// <summary>
/// The firmware's integer-only embed and encoder-block stages against the model core's INT8 reference (integer
/// linears, float LayerNorm/softmax/GELU/residual), on real Fashion-MNIST images of the test model.
/// </summary>
public sealed class Int8EncoderStagesTests(ITestOutputHelper output)
{
    /// <summary>Bound on a block's output, in output quantization steps (measured at most 3.05 steps, mean 0.6; see Kernels/README.md).</summary>
    public const double BlockBoundSteps = 5;

    /// <summary>Bound on the head's logits, in logit steps (measured 1 step).</summary>
    public const double HeadBoundSteps = 2;

    private const int CalibrationImages = 256;
    private const int Images = 48;
    private static readonly Lazy<Fixture> Shared = new(() => new Fixture(ModelVariant.Int8));
    private static readonly Lazy<Fixture> SharedPruned = new(() => new Fixture(ModelVariant.PrunedInt8));

    [Fact]
    public void The_embedding_equals_the_reference_up_to_the_position_quantization_and_the_add_rounding()
    {
        var f = Shared.Value;
        var c = f.Config;
        var pixels = TestModel.Model.Data.Test.ScaledPixels(0, Images);
        var expected = f.Reference.Managed.Run(ModelStage.Embedding, pixels, Images);
        var embedding = f.Chain.Embedding;
        var blob = Int8StageBlob.Decode(f.Builder.Embedding());
        blob.Int8Tensor("position", c.Tokens * c.ModelDim, out var position);
        // The projection is the reference's own integer layer; what differs is the int8 position (half a step of
        // its scale) and the int8 ADD's rounding (half an output step plus gemmlowp's fixed-point error).
        var bound = 0.501 + (0.5 * position.Scale / embedding.Output.Scale);
        var imagePixels = new sbyte[c.PixelsPerImage];
        var tokens = new sbyte[c.Tokens * c.ModelDim];
        double worst = 0;
        for (var image = 0; image < Images; image++)
        {
            for (var i = 0; i < imagePixels.Length; i++) imagePixels[i] = embedding.Input.Quantize(pixels[(image * c.PixelsPerImage) + i]);
            embedding.RunImage(imagePixels, tokens);
            worst = Math.Max(worst, McuIntegerChain.ErrorSteps(tokens, expected.AsSpan(image * tokens.Length, tokens.Length).ToArray(), embedding.Output));
        }

        output.WriteLine($"embed: max error {worst:F4} steps, bound {bound:F4}");
        Assert.InRange(worst, 0, bound);
    }

    [Theory]
    [InlineData(ModelVariant.Int8)]
    [InlineData(ModelVariant.PrunedInt8)]
    public void Each_block_stays_within_the_stated_bound_of_the_reference_on_the_same_int8_input(ModelVariant variant)
    {
        var f = variant == ModelVariant.Int8 ? Shared.Value : SharedPruned.Value;
        var pixels = TestModel.Model.Data.Test.ScaledPixels(0, Images);
        var tokens = f.Reference.Managed.Run(ModelStage.Embedding, pixels, Images);
        for (var b = 0; b < f.Chain.Blocks.Count; b++)
        {
            var block = f.Chain.Blocks[b];
            var codes = tokens.Select(block.Input.Quantize).ToArray();
            var input = codes.Select(code => block.Input.Dequantize(code)).ToArray();
            var expected = f.Reference.Managed.Run(ModelStage.Block(b), input, Images);
            var length = f.Config.Tokens * f.Config.ModelDim;
            double worst = 0, sum = 0;
            for (var image = 0; image < Images; image++)
            {
                var image8 = codes.AsSpan(image * length, length).ToArray();
                block.RunImage(image8);
                var reference = expected.AsSpan(image * length, length).ToArray();
                worst = Math.Max(worst, McuIntegerChain.ErrorSteps(image8, reference, block.Output));
                sum += image8.Select((q, i) => Math.Abs(block.Output.Dequantize(q) - reference[i]) / block.Output.Scale).Average();
            }

            output.WriteLine($"{variant} block{b}: max error {worst:F3} steps, mean {sum / Images:F3} steps (bound {BlockBoundSteps})");
            Assert.InRange(worst, 0, BlockBoundSteps);
            tokens = expected;
        }
    }

    [Fact]
    public void The_head_stays_within_the_stated_bound_of_the_reference_and_its_classifier_is_the_reference_layer()
    {
        var f = Shared.Value;
        var c = f.Config;
        var pixels = TestModel.Model.Data.Test.ScaledPixels(0, Images);
        var tokens = f.Reference.Managed.Run(ModelStage.Embedding, pixels, Images);
        for (var b = 0; b < c.Layers; b++) tokens = f.Reference.Managed.Run(ModelStage.Block(b), tokens, Images);
        var head = f.Chain.Head;
        var codes = tokens.Select(head.Input.Quantize).ToArray();
        var expected = f.Reference.Managed.Run(ModelStage.Head, codes.Select(code => head.Input.Dequantize(code)).ToArray(), Images);
        var blob = Int8StageBlob.Decode(f.Builder.Head());
        var logits = blob.Activation("logits");
        var layer = f.Reference.Quantized!.For(f.Reference.Weights.Head);
        Assert.Equal(layer.Weights.Weights, blob.Linear("head", c.ModelDim, c.Classes).Weights);
        Assert.Equal((layer.Input.Scale, layer.Input.ZeroPoint), (blob.Activation("pooled").Scale, blob.Activation("pooled").ZeroPoint));
        double worst = 0;
        var length = c.Tokens * c.ModelDim;
        var imageLogits = new sbyte[c.Classes];
        for (var image = 0; image < Images; image++)
        {
            head.RunImage(codes.AsSpan(image * length, length).ToArray(), imageLogits);
            worst = Math.Max(worst, McuIntegerChain.ErrorSteps(imageLogits, expected.AsSpan(image * c.Classes, c.Classes).ToArray(), logits));
        }

        output.WriteLine($"head: max error {worst:F3} logit steps (bound {HeadBoundSteps})");
        Assert.InRange(worst, 0, HeadBoundSteps);
    }

    [Theory]
    [InlineData(ModelVariant.Int8, 0.03)]
    [InlineData(ModelVariant.PrunedInt8, 0.05)]
    public void The_integer_only_chain_classifies_real_test_images_about_as_well_as_fp32(ModelVariant variant, double tolerance)
    {
        var f = variant == ModelVariant.Int8 ? Shared.Value : SharedPruned.Value;
        const int images = 300;
        var test = TestModel.Model.Data.Test;
        var pixels = test.ScaledPixels(0, images);
        var model = new TinyVitModel(TestModel.Model.Weights);
        var activations = model.NewActivations(images);
        model.ForwardGroup(pixels, images, activations);
        var fp32 = TinyVitModel.ArgMax(activations.Logits, images, f.Config.Classes);
        var firmware = f.Chain.Predict(pixels, images);
        double Accuracy(int[] predicted) => predicted.Where((p, i) => p == test.Labels[i]).Count() / (double)images;
        var agreement = firmware.Where((p, i) => p == fp32[i]).Count() / (double)images;
        output.WriteLine($"{variant}: fp32 {Accuracy(fp32):P1}, firmware integer-only {Accuracy(firmware):P1}, agreement {agreement:P1}");
        Assert.InRange(Accuracy(firmware), Accuracy(fp32) - tolerance, 1.0);
        Assert.True(agreement >= 0.9, $"agreement {agreement:P1}");
    }

    [Fact]
    public void Every_stage_allocates_exactly_the_activations_and_scratch_of_its_static_plan()
    {
        foreach (var chain in new[] { Shared.Value.Chain, SharedPruned.Value.Chain })
        {
            var plan = chain.Embedding.MemoryPlan;
            Assert.Equal((plan.ActivationBytes, plan.ScratchBytes), (chain.Embedding.ActivationBytes, chain.Embedding.ScratchBytes));
            foreach (var block in chain.Blocks)
                Assert.Equal((block.MemoryPlan.ActivationBytes, block.MemoryPlan.ScratchBytes), (block.ActivationBytes, block.ScratchBytes));
            Assert.Equal((chain.Head.MemoryPlan.ActivationBytes, chain.Head.MemoryPlan.ScratchBytes), (chain.Head.ActivationBytes, chain.Head.ScratchBytes));
        }

        Assert.Equal(SharedPruned.Value.Config.MlpDim, SharedPruned.Value.Chain.Blocks[0].Shape.MlpDim);
        Assert.True(SharedPruned.Value.Config.MlpDim < Shared.Value.Config.MlpDim);
    }

    [Fact]
    public void A_block_mask_in_the_blob_runs_the_sparse_kernel_and_skips_blocks_with_the_dense_result_of_zeroed_blocks()
    {
        var f = Shared.Value;
        var c = f.Config;
        var dense = Int8StageBlob.Decode(f.Builder.Block(0));
        var fc1 = dense.Linear("fc1", c.ModelDim, c.MlpDim);
        var mask = new StructuredSparsityMask(fc1.In, fc1.Out, 4);
        var random = new Random(5);
        for (var channel = 0; channel < mask.Out; channel++)
            for (var block = 0; block < mask.BlocksPerRow; block++)
                mask.SetKept(channel, block, random.NextDouble() < 0.5);
        var zeroed = new QuantizedLinearWeights(fc1.In, fc1.Out, (sbyte[])fc1.Weights.Clone(), fc1.Bias, fc1.WeightScales);
        zeroed.ApplySparsity(mask);
        var withZeros = Rebuild(dense.Bundle, "fc1", zeroed, null);
        var withMask = Rebuild(dense.Bundle, "fc1", fc1, mask);
        var denseStage = new Int8EncoderBlockStage(Int8StageBlob.Decode(withZeros), RequantizationMode.FixedPoint);
        var sparseStage = new Int8EncoderBlockStage(Int8StageBlob.Decode(withMask), RequantizationMode.FixedPoint);
        Assert.True(sparseStage.SkipsPrunedBlocks);
        Assert.False(denseStage.SkipsPrunedBlocks);

        var random8 = new Random(9);
        for (var trial = 0; trial < 8; trial++)
        {
            var tokens = new sbyte[c.Tokens * c.ModelDim];
            for (var i = 0; i < tokens.Length; i++) tokens[i] = (sbyte)random8.Next(-128, 128);
            var second = (sbyte[])tokens.Clone();
            denseStage.RunImage(tokens);
            sparseStage.RunImage(second);
            Assert.Equal(tokens, second);
        }

        var bad = TensorBundleCodec.Encode(CopyExcept(dense.Bundle, null, b => b.Add("fc1.keptBlocks", TensorFrame.FromInt8(new sbyte[3], [3, 1], QuantizationKind.None, 0, [], []))));
        var error = Assert.Throws<WireFormatException>(() => new Int8EncoderBlockStage(Int8StageBlob.Decode(bad), RequantizationMode.FixedPoint));
        Assert.Equal("fc1.keptBlocks", error.Field);
    }

    [Fact]
    public void A_block_blob_without_a_quantization_point_is_refused_by_name()
    {
        var f = Shared.Value;
        var blob = Int8StageBlob.Decode(f.Builder.Block(1));
        var missing = TensorBundleCodec.Encode(CopyExcept(blob.Bundle, "quant.scores", _ => { }));
        var error = Assert.Throws<WireFormatException>(() => new Int8EncoderBlockStage(Int8StageBlob.Decode(missing), RequantizationMode.FixedPoint));
        Assert.Contains("quant.scores", error.Message + error.Field, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => new Int8EmbeddingStage(blob, RequantizationMode.FixedPoint));
    }

    private static byte[] Rebuild(TensorBundle source, string layer, QuantizedLinearWeights weights, StructuredSparsityMask? mask) =>
        TensorBundleCodec.Encode(CopyExcept(source, layer + ".", bundle =>
        {
            Int8StageBlob.AddLinear(bundle, layer, weights);
            if (mask is not null) Int8StageBlob.AddBlockMask(bundle, layer, mask);
        }));

    private static TensorBundle CopyExcept(TensorBundle source, string? skippedPrefix, Action<TensorBundle> add)
    {
        var copy = new TensorBundle(source.HeaderJson);
        for (var i = 0; i < source.Count; i++)
        {
            var name = source.GetName(i);
            if (skippedPrefix is null || !name.StartsWith(skippedPrefix, StringComparison.Ordinal)) copy.Add(name, source.GetFrame(i));
        }

        add(copy);
        return copy;
    }

    private sealed class Fixture
    {
        public Fixture(ModelVariant variant)
        {
            var model = TestModel.Model;
            var pixels = model.Data.Train.ScaledPixels(0, CalibrationImages);
            var options = new VariantBuildOptions { CalibrationImages = CalibrationImages, Requantization = RequantizationMode.FixedPoint };
            Reference = variant == ModelVariant.Int8
                ? VariantModel.Int8(model.Weights, pixels, CalibrationImages, options)
                : VariantModel.PrunedInt8(model.Weights, pixels, CalibrationImages, options);
            Builder = new Int8StageBlobBuilder(Reference.Quantized!, pixels, CalibrationImages);
            Chain = McuIntegerChain.FromBuilder(variant, Builder);
        }

        public VariantModel Reference { get; }
        public Int8StageBlobBuilder Builder { get; }
        public McuIntegerChain Chain { get; }
        public TinyVitConfig Config => Builder.Config;
    }
}
