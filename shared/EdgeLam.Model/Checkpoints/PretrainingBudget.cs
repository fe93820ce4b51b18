using System.Globalization;

namespace EdgeLam.Model.Checkpoints;

/// <summary>
/// How much central pretraining the base model gets: images of the public slice, epochs and optimizer
/// settings. Part of the checkpoint's content hash.
/// </summary>
public sealed record PretrainingBudget
{
    /// <summary>Images of the public slice (first images of the seeded shuffle of the training set).</summary>
    public int PublicImages { get; init; } = 6000;
    public int Epochs { get; init; } = 4;
    public int BatchSize { get; init; } = 64;
    public float LearningRate { get; init; } = 3e-3f;
    public float WeightDecay { get; init; } = 0.05f;
    /// <summary>Test images used for the reported accuracy (null: the whole official test set).</summary>
    public int? EvaluationImages { get; init; }

    /// <summary>The default: about a minute on two cores, leaving room for LoRA fine-tuning to improve.</summary>
    public static PretrainingBudget Default { get; } = new();

    public void Validate()
    {
        if (PublicImages <= 0 || Epochs <= 0 || BatchSize <= 0 || EvaluationImages <= 0)
            throw new ArgumentException("PublicImages, Epochs, BatchSize and EvaluationImages must be positive.");
        if (!(LearningRate > 0) || WeightDecay < 0)
            throw new ArgumentException("LearningRate must be positive and WeightDecay non-negative.");
    }

    /// <summary>Culture-independent text that identifies the budget in the content hash.</summary>
    public string CanonicalText() => string.Create(CultureInfo.InvariantCulture,
        $"public={PublicImages};epochs={Epochs};batch={BatchSize};lr={LearningRate:R};wd={WeightDecay:R};eval={EvaluationImages?.ToString(CultureInfo.InvariantCulture) ?? "all"}");
}
