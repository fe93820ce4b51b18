using EdgeLam.Firmware.Quantization;
using EdgeLam.Firmware.Stages;
using EdgeLam.Model.Architecture;
using EdgeLam.Model.Onnx;
using EdgeLam.Model.Quantization;
using EdgeLam.Model.Variants;

namespace EdgeLam.Firmware.Emulator.Stages;

/// <summary>
/// The whole model as the firmware runs it: the INT8 stage blobs of a quantized variant, decoded and loaded into the
/// firmware's integer-only executors (embed, every block, head), chained in int8 (each stage's output quantization is
/// the next stage's input quantization, so no requantization between them).
/// </summary>
public sealed class McuIntegerChain
{
    private McuIntegerChain(ModelVariant variant, TinyVitConfig config, Int8EmbeddingStage embedding, Int8EncoderBlockStage[] blocks, Int8HeadStage head)
    {
        Variant = variant;
        Config = config;
        Embedding = embedding;
        Blocks = blocks;
        Head = head;
    }

    public ModelVariant Variant { get; }
    public TinyVitConfig Config { get; }
    public Int8EmbeddingStage Embedding { get; }
    public IReadOnlyList<Int8EncoderBlockStage> Blocks { get; }
    public Int8HeadStage Head { get; }

    /// <summary>Every stage in pipeline order.</summary>
    public IEnumerable<IInferenceStage> Stages => [Embedding, .. Blocks, Head];

    /// <summary>Builds the blobs of an INT8 or Pruned-INT8 variant and loads them as the device does (fixed-point requantization).</summary>
    public static McuIntegerChain Build(VariantModel variant, float[] calibrationPixels, int calibrationImages, RequantizationMode mode = RequantizationMode.FixedPoint)
    {
        ArgumentNullException.ThrowIfNull(variant);
        var quantized = variant.Quantized ?? throw new ArgumentException($"Variant {variant.Variant.WireName()} has no integer layers; the firmware runs int8 and pruned_int8.", nameof(variant));
        return FromBuilder(variant.Variant, new Int8StageBlobBuilder(quantized.WithMode(mode), calibrationPixels, calibrationImages), mode);
    }

    /// <summary>Loads the blobs of a builder already calibrated.</summary>
    public static McuIntegerChain FromBuilder(ModelVariant variant, Int8StageBlobBuilder builder, RequantizationMode mode = RequantizationMode.FixedPoint)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var config = builder.Config;
        var embedding = new Int8EmbeddingStage(Int8StageBlob.Decode(builder.Embedding()), mode);
        var blocks = Enumerable.Range(0, config.Layers).Select(i => new Int8EncoderBlockStage(Int8StageBlob.Decode(builder.Block(i)), mode)).ToArray();
        var head = new Int8HeadStage(Int8StageBlob.Decode(builder.Head()), mode);
        return new McuIntegerChain(variant, config, embedding, blocks, head);
    }

    /// <summary>int8 logits [images, classes] of float pixels, every stage in integers.</summary>
    public sbyte[] Logits(ReadOnlySpan<float> pixels, int images)
    {
        var c = Config;
        var imagePixels = new sbyte[c.PixelsPerImage];
        var tokens = new sbyte[c.Tokens * c.ModelDim];
        var logits = new sbyte[images * c.Classes];
        var imageLogits = new sbyte[c.Classes];
        for (var image = 0; image < images; image++)
        {
            var source = pixels.Slice(image * c.PixelsPerImage, c.PixelsPerImage);
            for (var i = 0; i < imagePixels.Length; i++) imagePixels[i] = Embedding.Input.Quantize(source[i]);
            Embedding.RunImage(imagePixels, tokens);
            foreach (var block in Blocks) block.RunImage(tokens);
            Head.RunImage(tokens, imageLogits);
            imageLogits.CopyTo(logits, image * c.Classes);
        }

        return logits;
    }

    /// <summary>Predicted classes of float pixels.</summary>
    public int[] Predict(ReadOnlySpan<float> pixels, int images) =>
        TinyVitModel.ArgMax(Logits(pixels, images).Select(v => (float)v).ToArray(), images, Config.Classes);

    /// <summary>
    /// Largest |firmware − reference| of the last block's output over the images, in output quantization steps: the
    /// firmware block runs on the int8 tokens the firmware chain produced, the model core's INT8 reference block on
    /// the same tokens dequantized. Outputs the firmware saturated while the reference lies outside the range are skipped.
    /// </summary>
    public double MaximumBlockErrorSteps(VariantModel reference, ReadOnlySpan<float> pixels, int images)
    {
        ArgumentNullException.ThrowIfNull(reference);
        var c = Config;
        var last = Blocks[^1];
        var tokens = new sbyte[c.Tokens * c.ModelDim];
        var imagePixels = new sbyte[c.PixelsPerImage];
        double worst = 0;
        for (var image = 0; image < images; image++)
        {
            var source = pixels.Slice(image * c.PixelsPerImage, c.PixelsPerImage);
            for (var i = 0; i < imagePixels.Length; i++) imagePixels[i] = Embedding.Input.Quantize(source[i]);
            Embedding.RunImage(imagePixels, tokens);
            for (var b = 0; b < Blocks.Count - 1; b++) Blocks[b].RunImage(tokens);
            var input = tokens.Select(code => last.Input.Dequantize(code)).ToArray();
            var expected = reference.Managed.Run(ModelStage.Block(Blocks.Count - 1), input, 1);
            last.RunImage(tokens);
            worst = Math.Max(worst, ErrorSteps(tokens, expected, last.Output));
        }

        return worst;
    }

    /// <summary>Largest |dequantized int8 − reference| in output steps, skipping saturated codes whose reference is outside the range.</summary>
    public static double ErrorSteps(sbyte[] actual, float[] expected, QuantizationParameters quantization)
    {
        ArgumentNullException.ThrowIfNull(actual);
        ArgumentNullException.ThrowIfNull(expected);
        ArgumentNullException.ThrowIfNull(quantization);
        double worst = 0;
        var lowest = quantization.Dequantize(sbyte.MinValue);
        var highest = quantization.Dequantize(sbyte.MaxValue);
        for (var i = 0; i < actual.Length; i++)
        {
            if ((actual[i] == sbyte.MaxValue && expected[i] > highest) || (actual[i] == sbyte.MinValue && expected[i] < lowest)) continue;
            worst = Math.Max(worst, Math.Abs(quantization.Dequantize(actual[i]) - expected[i]) / quantization.Scale);
        }

        return worst;
    }
}
