using EdgeLam.Model.Architecture;
using EdgeLam.Model.Lora;
using EdgeLam.Model.Training;
using static EdgeLam.Model.Tests.Architecture.GradientCheck;

namespace EdgeLam.Model.Tests.Training;

public sealed class BackpropagationTests
{
    private const int Images = 3;
    private static readonly TinyVitConfig Config = new(ImageSize: 8, PatchSize: 4, ModelDim: 8, Layers: 2, Heads: 2, MlpDim: 12, Classes: 4);

    [Fact]
    public void Full_model_gradients_match_finite_differences_for_every_tensor()
    {
        var model = TinyVitModel.CreateRandom(Config, seed: 3);
        // Non-trivial LayerNorm parameters and biases so their gradients are exercised away from the init point.
        foreach (var tensor in model.Weights.Tensors().Where(t => t.Shape.Length == 1))
        {
            float[] noise = RandomArray(tensor.Values.Length, tensor.Name.Length, 0.2);
            for (int i = 0; i < noise.Length; i++)
                tensor.Values[i] += noise[i];
        }
        (float[] pixels, byte[] labels) = RandomBatch();
        var backpropagation = new Backpropagation(model, GradientTargets.BaseAndAdapters);
        double loss = backpropagation.Compute(pixels, labels, Images);
        Assert.Equal(MeanLoss(model, pixels, labels), loss, 5);

        foreach (var (parameter, gradient) in model.Weights.Tensors().Zip(backpropagation.WeightGradient!.Tensors()))
            Verify(parameter.Name, parameter.Values, gradient.Values, () => MeanLoss(model, pixels, labels), maximumChecks: 12, epsilon: 3e-3f, relative: 2e-3, absolute: 2e-4);
    }

    [Fact]
    public void Lora_factor_gradients_match_finite_differences()
    {
        var model = TinyVitModel.CreateRandom(Config, seed: 4);
        LoraAdapterSet adapters = LoraAdapterSet.Create(Config, rank: 2, alpha: 4, seed: 5);
        foreach (LoraAdapter adapter in adapters.Adapters)
            RandomArray(adapter.B.Length, adapter.Layer * 10 + adapter.Projection.Length, 0.3).CopyTo(adapter.B, 0);
        model.Adapters = adapters;
        (float[] pixels, byte[] labels) = RandomBatch();
        var backpropagation = new Backpropagation(model, GradientTargets.AdaptersOnly);
        backpropagation.Compute(pixels, labels, Images);
        Assert.Null(backpropagation.WeightGradient);

        foreach (var (parameter, gradient) in adapters.Tensors().Zip(backpropagation.AdapterGradient!.Tensors()))
            Verify(parameter.Name, parameter.Values, gradient.Values, () => MeanLoss(model, pixels, labels), maximumChecks: 8, epsilon: 3e-3f, relative: 2e-3, absolute: 2e-4);
    }

    [Fact]
    public void Patch_order_follows_the_layout_contract()
    {
        var config = new TinyVitConfig(ImageSize: 6, PatchSize: 3, ModelDim: 4, Layers: 1, Heads: 1, MlpDim: 4);
        float[] pixels = Enumerable.Range(0, 36).Select(i => (float)i).ToArray();
        var patches = new float[4 * 9];
        PatchEmbedding.ExtractPatches(config, pixels, 1, patches);
        for (int py = 0; py < 2; py++)
        {
            for (int px = 0; px < 2; px++)
            {
                for (int dy = 0; dy < 3; dy++)
                {
                    for (int dx = 0; dx < 3; dx++)
                        Assert.Equal(pixels[(((py * 3) + dy) * 6) + (px * 3) + dx], patches[((((py * 2) + px) * 9) + (dy * 3)) + dx]);
                }
            }
        }
    }

    [Fact]
    public void Gradients_do_not_depend_on_how_images_are_grouped()
    {
        var model = TinyVitModel.CreateRandom(Config, seed: 6);
        var random = new EdgeLam.Model.Data.SeededRandom(9);
        const int batch = 40;
        float[] pixels = Enumerable.Range(0, batch * Config.PixelsPerImage).Select(_ => (float)random.NextDouble()).ToArray();
        byte[] labels = Enumerable.Range(0, batch).Select(_ => (byte)random.NextInt(Config.Classes)).ToArray();
        var first = new Backpropagation(model, GradientTargets.BaseAndAdapters);
        var second = new Backpropagation(model, GradientTargets.BaseAndAdapters);
        Assert.Equal(first.Compute(pixels, labels, batch), second.Compute(pixels, labels, batch));
        Assert.Equal(first.WeightGradient!.Head.W, second.WeightGradient!.Head.W);

        // Logits of an image are the same alone or inside a batch.
        float[] all = model.Forward(pixels, batch);
        float[] single = model.Forward(pixels.AsMemory(17 * Config.PixelsPerImage, Config.PixelsPerImage), 1);
        Assert.Equal(all.AsSpan(17 * Config.Classes, Config.Classes).ToArray(), single);
    }

    private static (float[] Pixels, byte[] Labels) RandomBatch()
    {
        var random = new EdgeLam.Model.Data.SeededRandom(11);
        float[] pixels = Enumerable.Range(0, Images * Config.PixelsPerImage).Select(_ => (float)random.NextDouble()).ToArray();
        byte[] labels = [0, 3, 1];
        return (pixels, labels);
    }

    private static double MeanLoss(TinyVitModel model, float[] pixels, byte[] labels)
    {
        float[] logits = model.Forward(pixels, Images);
        return CrossEntropy.LossAndGradient(logits, labels, Images, Config.Classes, 1f, new float[logits.Length]) / Images;
    }
}
