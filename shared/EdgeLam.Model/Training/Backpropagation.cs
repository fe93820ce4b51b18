using EdgeLam.Model.Architecture;
using EdgeLam.Model.Lora;

namespace EdgeLam.Model.Training;

/// <summary>What a backward pass produces gradients for.</summary>
public enum GradientTargets
{
    /// <summary>Every base weight (full training); adapters too when the model has them.</summary>
    BaseAndAdapters,
    /// <summary>Only the LoRA factors; the base is frozen and backpropagation stops below the lowest adapted layer.</summary>
    AdaptersOnly,
}

/// <summary>
/// Mean cross-entropy loss and its gradients for a mini-batch. Groups of images run in parallel, each with
/// its own buffers; group gradients are summed in group order, so the result does not depend on thread timing.
/// </summary>
public sealed class Backpropagation
{
    private readonly TinyVitModel _model;
    private readonly GradientTargets _targets;
    private readonly List<GroupWorkspace> _groups = [];

    public Backpropagation(TinyVitModel model, GradientTargets targets)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (targets == GradientTargets.AdaptersOnly && model.Adapters is null)
            throw new ArgumentException("Adapter-only gradients need a model with LoRA adapters.", nameof(model));
        _model = model;
        _targets = targets;
        WeightGradient = targets == GradientTargets.BaseAndAdapters ? TinyVitWeights.CreateZero(model.Config) : null;
        AdapterGradient = model.Adapters?.CloneEmpty();
    }

    /// <summary>d(mean loss)/d(base weights) of the last batch; null when the base is frozen.</summary>
    public TinyVitWeights? WeightGradient { get; }

    /// <summary>d(mean loss)/d(LoRA factors) of the last batch; null when the model has no adapters.</summary>
    public LoraAdapterSet? AdapterGradient { get; }

    /// <summary>Runs forward and backward over the batch; returns the mean loss and fills the gradients.</summary>
    public double Compute(ReadOnlyMemory<float> pixels, ReadOnlyMemory<byte> labels, int batch)
    {
        TinyVitConfig config = _model.Config;
        if (batch <= 0 || pixels.Length != batch * config.PixelsPerImage || labels.Length != batch)
            throw new ArgumentException($"Batch of {batch} needs {batch * config.PixelsPerImage} pixels and {batch} labels; got {pixels.Length} and {labels.Length}.");
        int groupCount = (batch + TinyVitModel.ImagesPerGroup - 1) / TinyVitModel.ImagesPerGroup;
        while (_groups.Count < groupCount)
            _groups.Add(new GroupWorkspace(_model, _targets, AdapterGradient));

        var losses = new double[groupCount];
        Parallel.For(0, groupCount, g =>
        {
            int start = g * TinyVitModel.ImagesPerGroup;
            int count = Math.Min(TinyVitModel.ImagesPerGroup, batch - start);
            losses[g] = _groups[g].Run(
                pixels.Span.Slice(start * config.PixelsPerImage, count * config.PixelsPerImage),
                labels.Span.Slice(start, count), count, batch);
        });

        if (WeightGradient is not null)
            SumInto(WeightGradient.Tensors().Select(t => t.Values).ToArray(), _groups.Take(groupCount).Select(w => w.WeightGradient!.Tensors().Select(t => t.Values).ToArray()));
        if (AdapterGradient is not null)
            SumInto(AdapterGradient.Tensors().Select(t => t.Values).ToArray(), _groups.Take(groupCount).Select(w => w.AdapterGradient!.Tensors().Select(t => t.Values).ToArray()));
        return losses.Sum() / batch;
    }

    private static void SumInto(float[][] target, IEnumerable<float[][]> parts)
    {
        foreach (float[] tensor in target)
            Array.Clear(tensor);
        foreach (float[][] part in parts)
        {
            for (int i = 0; i < target.Length; i++)
                System.Numerics.Tensors.TensorPrimitives.Add(target[i], part[i], target[i]);
        }
    }

    private sealed class GroupWorkspace
    {
        private readonly TinyVitModel _model;
        private readonly GradientTargets _targets;
        private readonly TinyVitActivations _activations;
        private readonly float[] _logitGradient;
        private readonly float[] _gradientA;
        private readonly float[] _gradientB;

        public GroupWorkspace(TinyVitModel model, GradientTargets targets, LoraAdapterSet? adapterGradientShape)
        {
            _model = model;
            _targets = targets;
            TinyVitConfig config = model.Config;
            _activations = model.NewActivations(TinyVitModel.ImagesPerGroup);
            _logitGradient = new float[TinyVitModel.ImagesPerGroup * config.Classes];
            _gradientA = new float[TinyVitModel.ImagesPerGroup * config.Tokens * config.ModelDim];
            _gradientB = new float[_gradientA.Length];
            WeightGradient = targets == GradientTargets.BaseAndAdapters ? TinyVitWeights.CreateZero(config) : null;
            AdapterGradient = adapterGradientShape?.CloneEmpty();
        }

        public TinyVitWeights? WeightGradient { get; }
        public LoraAdapterSet? AdapterGradient { get; }

        public double Run(ReadOnlySpan<float> pixels, ReadOnlySpan<byte> labels, int count, int batch)
        {
            TinyVitConfig config = _model.Config;
            TinyVitWeights weights = _model.Weights;
            if (WeightGradient is not null)
            {
                foreach (var tensor in WeightGradient.Tensors())
                    Array.Clear(tensor.Values);
            }
            if (AdapterGradient is not null)
            {
                foreach (var tensor in AdapterGradient.Tensors())
                    Array.Clear(tensor.Values);
            }

            _model.ForwardGroup(pixels, count, _activations);
            double loss = CrossEntropy.LossAndGradient(_activations.Logits, labels, count, config.Classes, batch, _logitGradient);

            float[] current = _gradientA, next = _gradientB;
            ClassifierHead.Backward(weights, _activations.Head, _logitGradient.AsSpan(0, count * config.Classes), count, current, WeightGradient);
            int lowestLayer = _targets == GradientTargets.BaseAndAdapters ? 0 : _model.Adapters!.LowestAdaptedLayer;
            if (lowestLayer < 0)
                return loss;
            for (int layer = config.Layers - 1; layer >= lowestLayer; layer--)
            {
                EncoderBlock.Backward(config, weights.Blocks[layer], _model.Adapters, layer, _activations.Blocks[layer], current, count, next, WeightGradient?.Blocks[layer], AdapterGradient);
                (current, next) = (next, current);
            }
            if (WeightGradient is not null)
                PatchEmbedding.Backward(weights, _activations.Patches, current, count, WeightGradient);
            return loss;
        }
    }
}
