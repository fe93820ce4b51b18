using System.Collections.Concurrent;
using EdgeLam.Model.Data;
using EdgeLam.Model.Lora;

namespace EdgeLam.Model.Architecture;

/// <summary>
/// The tiny ViT in full precision: the whole forward pass, each inference stage on its own
/// (patch embedding, encoder block i, head; activations are [batch, Tokens, ModelDim] row-major), and
/// accuracy on a dataset. Optional LoRA adapters are applied unmerged. Images are processed in groups of
/// <see cref="ImagesPerGroup"/> in parallel; each image's result does not depend on the grouping.
/// </summary>
public sealed class TinyVitModel
{
    public const int ImagesPerGroup = 16;
    private LoraAdapterSet? _adapters;
    // Forward buffers are large; reusing them keeps inference off the large-object heap.
    private readonly ConcurrentBag<TinyVitActivations> _activationPool = [];

    public TinyVitModel(TinyVitWeights weights, LoraAdapterSet? adapters = null)
    {
        ArgumentNullException.ThrowIfNull(weights);
        Weights = weights;
        Adapters = adapters;
    }

    public TinyVitWeights Weights { get; }
    public TinyVitConfig Config => Weights.Config;

    /// <summary>Adapters added to the projections in every forward pass (null: the plain base model).</summary>
    public LoraAdapterSet? Adapters
    {
        get => _adapters;
        set
        {
            if (value is not null && value.Config != Config)
                throw new ArgumentException("Adapter set was built for a different model configuration.", nameof(value));
            _adapters = value;
        }
    }

    /// <summary>A model with freshly initialized weights, deterministic from the seed.</summary>
    public static TinyVitModel CreateRandom(TinyVitConfig config, int seed) => new(TinyVitInitializer.Initialize(config, seed));

    /// <summary>logits [batch, Classes] from pixels [batch, PixelsPerImage] in [0, 1].</summary>
    public float[] Forward(ReadOnlyMemory<float> pixels, int batch)
    {
        CheckLength(pixels.Length, batch, Config.PixelsPerImage, nameof(pixels));
        var logits = new float[batch * Config.Classes];
        ForEachGroup(batch, (start, count) =>
        {
            TinyVitActivations activations = RentActivations();
            ForwardGroup(pixels.Span.Slice(start * Config.PixelsPerImage, count * Config.PixelsPerImage), count, activations);
            activations.Logits.AsSpan(0, count * Config.Classes).CopyTo(logits.AsSpan(start * Config.Classes));
            _activationPool.Add(activations);
        });
        return logits;
    }

    /// <summary>Stage 0: tokens [batch, Tokens, ModelDim] from pixels [batch, PixelsPerImage].</summary>
    public float[] PatchEmbeddingForward(ReadOnlyMemory<float> pixels, int batch)
    {
        CheckLength(pixels.Length, batch, Config.PixelsPerImage, nameof(pixels));
        int tokenValues = Config.Tokens * Config.ModelDim;
        var tokens = new float[batch * tokenValues];
        ForEachGroup(batch, (start, count) =>
        {
            var patches = new float[count * Config.Tokens * Config.PatchDim];
            PatchEmbedding.Forward(Weights, pixels.Span.Slice(start * Config.PixelsPerImage, count * Config.PixelsPerImage), count, tokens.AsSpan(start * tokenValues, count * tokenValues), patches);
        });
        return tokens;
    }

    /// <summary>Stage 1 + layer: encoder block <paramref name="layer"/> on tokens [batch, Tokens, ModelDim].</summary>
    public float[] BlockForward(int layer, ReadOnlyMemory<float> tokens, int batch)
    {
        if ((uint)layer >= (uint)Config.Layers)
            throw new ArgumentOutOfRangeException(nameof(layer), layer, $"The model has {Config.Layers} blocks.");
        int tokenValues = Config.Tokens * Config.ModelDim;
        CheckLength(tokens.Length, batch, tokenValues, nameof(tokens));
        var output = new float[batch * tokenValues];
        ForEachGroup(batch, (start, count) =>
        {
            TinyVitActivations activations = RentActivations();
            EncoderBlock.Forward(Config, Weights.Blocks[layer], Adapters, layer, tokens.Span.Slice(start * tokenValues, count * tokenValues), count, output.AsSpan(start * tokenValues, count * tokenValues), activations.Blocks[layer]);
            _activationPool.Add(activations);
        });
        return output;
    }

    /// <summary>Last stage: logits [batch, Classes] from tokens [batch, Tokens, ModelDim].</summary>
    public float[] HeadForward(ReadOnlyMemory<float> tokens, int batch)
    {
        int tokenValues = Config.Tokens * Config.ModelDim;
        CheckLength(tokens.Length, batch, tokenValues, nameof(tokens));
        var logits = new float[batch * Config.Classes];
        ForEachGroup(batch, (start, count) =>
        {
            TinyVitActivations activations = RentActivations();
            ClassifierHead.Forward(Weights, tokens.Span.Slice(start * tokenValues, count * tokenValues), count, logits.AsSpan(start * Config.Classes, count * Config.Classes), activations.Head);
            _activationPool.Add(activations);
        });
        return logits;
    }

    /// <summary>The most likely class of each image.</summary>
    public int[] Predict(ReadOnlyMemory<float> pixels, int batch) => ArgMax(Forward(pixels, batch), batch, Config.Classes);

    /// <summary>Fraction of images whose predicted class equals the label.</summary>
    public double Evaluate(Dataset data, int batchSize = 512)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (data.PixelsPerImage != Config.PixelsPerImage)
            throw new ArgumentException($"Dataset images have {data.PixelsPerImage} pixels, the model expects {Config.PixelsPerImage}.", nameof(data));
        if (data.Count == 0)
            throw new ArgumentException("Cannot evaluate on an empty dataset.", nameof(data));
        int correct = 0;
        for (int start = 0; start < data.Count; start += batchSize)
        {
            int count = Math.Min(batchSize, data.Count - start);
            int[] predicted = Predict(data.ScaledPixels(start, count), count);
            for (int i = 0; i < count; i++)
            {
                if (predicted[i] == data.Labels[start + i])
                    correct++;
            }
        }
        return (double)correct / data.Count;
    }

    /// <summary>Buffers for a recorded forward pass over <paramref name="images"/> images.</summary>
    public TinyVitActivations NewActivations(int images) => new(Config, images, Adapters?.Rank ?? 0);

    /// <summary>Forward pass over one group of images that keeps every activation (the logits end in activations.Logits).</summary>
    public void ForwardGroup(ReadOnlySpan<float> pixels, int images, TinyVitActivations activations)
    {
        ArgumentNullException.ThrowIfNull(activations);
        if (activations.Images < images || activations.LoraRank != (Adapters?.Rank ?? 0))
            throw new ArgumentException("Activation buffers do not fit this group of images or this adapter rank.", nameof(activations));
        PatchEmbedding.Forward(Weights, pixels, images, activations.BlockInputs[0], activations.Patches);
        for (int layer = 0; layer < Config.Layers; layer++)
            EncoderBlock.Forward(Config, Weights.Blocks[layer], Adapters, layer, activations.BlockInputs[layer], images, activations.BlockInputs[layer + 1], activations.Blocks[layer]);
        ClassifierHead.Forward(Weights, activations.BlockInputs[Config.Layers], images, activations.Logits, activations.Head);
    }

    private TinyVitActivations RentActivations()
    {
        int rank = Adapters?.Rank ?? 0;
        while (_activationPool.TryTake(out TinyVitActivations? pooled))
        {
            if (pooled.LoraRank == rank)
                return pooled;
        }
        return NewActivations(ImagesPerGroup);
    }

    public static int[] ArgMax(float[] logits, int batch, int classes)
    {
        var result = new int[batch];
        for (int b = 0; b < batch; b++)
            result[b] = System.Numerics.Tensors.TensorPrimitives.IndexOfMax(logits.AsSpan(b * classes, classes));
        return result;
    }

    private static void ForEachGroup(int batch, Action<int, int> body)
    {
        int groups = (batch + ImagesPerGroup - 1) / ImagesPerGroup;
        Parallel.For(0, groups, group =>
        {
            int start = group * ImagesPerGroup;
            body(start, Math.Min(ImagesPerGroup, batch - start));
        });
    }

    private static void CheckLength(int length, int batch, int perImage, string name)
    {
        if (batch < 0)
            throw new ArgumentOutOfRangeException(nameof(batch), batch, "Batch size cannot be negative.");
        if (length != batch * perImage)
            throw new ArgumentException($"Expected {batch}x{perImage} = {batch * perImage} values, got {length}.", name);
    }
}
