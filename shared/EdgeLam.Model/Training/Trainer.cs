using System.Diagnostics;
using EdgeLam.Model.Architecture;
using EdgeLam.Model.Data;
using EdgeLam.Model.Lora;

namespace EdgeLam.Model.Training;

/// <summary>Which parameters a training run updates.</summary>
public enum TrainingMode
{
    /// <summary>Every base weight (and adapters, when the model has them).</summary>
    Full,
    /// <summary>Only the model's LoRA factors; base weights stay bit-identical.</summary>
    LoraOnly,
}

/// <summary>
/// Mini-batch training settings. The learning rate warms up linearly for <see cref="WarmupFraction"/> of the
/// steps and then follows a cosine decay to zero (Loshchilov and Hutter 2017) when <see cref="CosineDecay"/>.
/// </summary>
public sealed record TrainingOptions
{
    public int Epochs { get; init; } = 1;
    /// <summary>Stops after this many steps even within an epoch (null: run all epochs).</summary>
    public int? MaximumSteps { get; init; }
    public int BatchSize { get; init; } = 64;
    public float LearningRate { get; init; } = 1e-3f;
    public float WeightDecay { get; init; } = 0.01f;
    public float WarmupFraction { get; init; } = 0.05f;
    public bool CosineDecay { get; init; } = true;
    /// <summary>Gradients are rescaled to at most this joint L2 norm (0 disables clipping).</summary>
    public float GradientClipNorm { get; init; } = 1f;
    /// <summary>Seeds the per-epoch shuffle of the training images.</summary>
    public int Seed { get; init; }

    /// <summary>
    /// A federated device's local round: exactly <paramref name="localSteps"/> steps at a constant learning rate
    /// (no warm-up, decay or weight decay, so the round's update is what the assignment asked for).
    /// </summary>
    public static TrainingOptions ForLocalRound(int localSteps, int batchSize, double learningRate, int shardImages, int seed)
    {
        int batch = Math.Min(batchSize, shardImages);
        int stepsPerEpoch = Math.Max(1, shardImages / batch);
        return new TrainingOptions
        {
            Epochs = (localSteps + stepsPerEpoch - 1) / stepsPerEpoch,
            MaximumSteps = localSteps,
            BatchSize = batch,
            LearningRate = (float)learningRate,
            WarmupFraction = 0f,
            CosineDecay = false,
            WeightDecay = 0f,
            Seed = seed,
        };
    }

    public void Validate()
    {
        if (Epochs <= 0 || BatchSize <= 0 || MaximumSteps <= 0)
            throw new ArgumentException("Epochs, BatchSize and MaximumSteps must be positive.");
        if (!(LearningRate > 0) || WeightDecay < 0 || WarmupFraction < 0 || WarmupFraction >= 1 || GradientClipNorm < 0)
            throw new ArgumentException("LearningRate must be positive, WeightDecay and GradientClipNorm non-negative, WarmupFraction in [0, 1).");
    }
}

/// <summary>Per-step mean mini-batch loss and throughput of a training run.</summary>
public sealed record TrainingResult(IReadOnlyList<double> LossHistory, int Steps, long Samples, TimeSpan Elapsed)
{
    public double SamplesPerSecond => Samples / Math.Max(Elapsed.TotalSeconds, 1e-9);
    public double FinalLoss => LossHistory.Count == 0 ? double.NaN : LossHistory[^1];
}

/// <summary>Mini-batch AdamW training of the tiny ViT, in full or LoRA-only mode, with seeded shuffling.</summary>
public static class Trainer
{
    public static TrainingResult Train(TinyVitModel model, Dataset data, TrainingOptions options, TrainingMode mode, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (data.Count == 0)
            throw new ArgumentException("Cannot train on an empty dataset.", nameof(data));
        if (data.PixelsPerImage != model.Config.PixelsPerImage)
            throw new ArgumentException($"Dataset images have {data.PixelsPerImage} pixels, the model expects {model.Config.PixelsPerImage}.", nameof(data));
        if (mode == TrainingMode.LoraOnly && (model.Adapters is null || model.Adapters.Adapters.Count == 0))
            throw new ArgumentException("LoRA-only training needs a model with at least one adapter.", nameof(model));

        var backpropagation = new Backpropagation(model, mode == TrainingMode.Full ? GradientTargets.BaseAndAdapters : GradientTargets.AdaptersOnly);
        var optimizer = new AdamW(TrainableTensors(model, backpropagation), options.WeightDecay);

        int batchSize = Math.Min(options.BatchSize, data.Count);
        int stepsPerEpoch = data.Count / batchSize;
        int totalSteps = Math.Min(options.MaximumSteps ?? int.MaxValue, stepsPerEpoch * options.Epochs);
        int warmupSteps = (int)(options.WarmupFraction * totalSteps);
        var random = SeededRandom.ForStream(options.Seed, "training-shuffle");
        var pixels = new float[batchSize * data.PixelsPerImage];
        var labels = new byte[batchSize];
        var losses = new List<double>(totalSteps);
        var stopwatch = Stopwatch.StartNew();
        int step = 0;
        while (step < totalSteps)
        {
            int[] order = random.Permutation(data.Count);
            for (int batchStart = 0; batchStart + batchSize <= data.Count && step < totalSteps; batchStart += batchSize)
            {
                cancellationToken.ThrowIfCancellationRequested();
                ReadOnlySpan<int> indices = order.AsSpan(batchStart, batchSize);
                data.GatherScaledPixels(indices, pixels);
                for (int i = 0; i < batchSize; i++)
                    labels[i] = data.Labels[indices[i]];
                double loss = backpropagation.Compute(pixels, labels, batchSize);
                if (!double.IsFinite(loss))
                    throw new InvalidOperationException($"Training diverged at step {step}: loss is {loss}. Lower the learning rate.");
                losses.Add(loss);
                if (options.GradientClipNorm > 0)
                    optimizer.ClipGradientNorm(options.GradientClipNorm);
                optimizer.Step(LearningRateAt(step, totalSteps, warmupSteps, options));
                step++;
            }
        }
        stopwatch.Stop();
        return new TrainingResult(losses, step, (long)step * batchSize, stopwatch.Elapsed);
    }

    /// <summary>Linear warmup, then constant or cosine decay.</summary>
    public static float LearningRateAt(int step, int totalSteps, int warmupSteps, TrainingOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (step < warmupSteps)
            return options.LearningRate * (step + 1) / warmupSteps;
        if (!options.CosineDecay)
            return options.LearningRate;
        double progress = (double)(step - warmupSteps) / Math.Max(1, totalSteps - warmupSteps);
        return (float)(options.LearningRate * 0.5 * (1.0 + Math.Cos(Math.PI * progress)));
    }

    private static List<TrainableTensor> TrainableTensors(TinyVitModel model, Backpropagation backpropagation)
    {
        var tensors = new List<TrainableTensor>();
        if (backpropagation.WeightGradient is { } weightGradient)
        {
            foreach (var (parameter, gradient) in model.Weights.Tensors().Zip(weightGradient.Tensors()))
            {
                // Decay matrices only; biases, LayerNorm and position embedding are left undecayed.
                bool decay = parameter.Name.EndsWith(".weight", StringComparison.Ordinal) && parameter.Shape.Length == 2;
                tensors.Add(new TrainableTensor(parameter.Name, parameter.Values, gradient.Values, decay));
            }
        }
        if (model.Adapters is { } adapters && backpropagation.AdapterGradient is { } adapterGradient)
        {
            foreach (var (parameter, gradient) in adapters.Tensors().Zip(adapterGradient.Tensors()))
                tensors.Add(new TrainableTensor(parameter.Name, parameter.Values, gradient.Values, Decay: true));
        }
        return tensors;
    }
}
