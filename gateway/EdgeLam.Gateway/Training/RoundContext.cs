namespace EdgeLam.Gateway.Training;

/// <summary>Local training settings shared by every device in a round.</summary>
/// <param name="LoraAlpha">Device scaling is LoraAlpha / rank (Hu et al. 2021).</param>
/// <param name="Seed">Seeds fresh adapter directions, so a round is reproducible.</param>
/// <param name="MaximumUpdateNorm">
/// Replies whose update norm exceeds this are rejected: ‖Σ s·B·A‖ over the adapters, or ‖w − w_global‖ over full weights.
/// </param>
public sealed record TrainingHyperparameters(
    int LocalSteps = 20,
    double LearningRate = 1e-3,
    int BatchSize = 32,
    float LoraAlpha = 16f,
    int Seed = 1234,
    double MaximumUpdateNorm = TrainingHyperparameters.DefaultMaximumUpdateNorm)
{
    /// <summary>
    /// An order of magnitude above what honest local rounds produce (a full-model round of 20 AdamW steps at lr 1e-3
    /// moves the 139k weights by at most about 0.02 each, norm ≈ 7.5), far below a diverged or scaled-up update.
    /// </summary>
    public const double DefaultMaximumUpdateNorm = 100;

    public static TrainingHyperparameters Default { get; } = new();

    /// <summary>Throws when a setting cannot drive local training.</summary>
    public void Validate()
    {
        if (LocalSteps < 1 || BatchSize < 1)
            throw new ArgumentOutOfRangeException(nameof(LocalSteps), $"Local steps {LocalSteps} and batch size {BatchSize} must be at least 1.");
        if (!double.IsFinite(LearningRate) || LearningRate <= 0)
            throw new ArgumentOutOfRangeException(nameof(LearningRate), LearningRate, "The learning rate must be positive and finite.");
        if (!float.IsFinite(LoraAlpha) || LoraAlpha <= 0)
            throw new ArgumentOutOfRangeException(nameof(LoraAlpha), LoraAlpha, "LoRA alpha must be positive and finite.");
        if (double.IsNaN(MaximumUpdateNorm) || MaximumUpdateNorm <= 0)
            throw new ArgumentOutOfRangeException(nameof(MaximumUpdateNorm), MaximumUpdateNorm, "The update norm bound must be positive.");
    }
}

/// <summary>
/// Everything a strategy needs for one round, passed in rather than kept on the strategy
/// (the strategy holds no state between calls).
/// </summary>
/// <param name="RoundNumber">1-based round being planned or aggregated.</param>
/// <param name="Global">Server model before this round.</param>
public sealed record RoundContext(
    int RoundNumber,
    GlobalModelState Global,
    AdapterLayout Layout,
    TrainingHyperparameters Hyperparameters)
{
    /// <summary>Throws when the context is incomplete; strategies call it first.</summary>
    public void Validate()
    {
        if (RoundNumber < 1)
            throw new ArgumentOutOfRangeException(nameof(RoundNumber), RoundNumber, "Rounds are numbered from 1.");
        if (Global?.Parameters is null || Layout is null || Hyperparameters is null)
            throw new ArgumentException("A round context needs the global state, the adapter layout and the hyperparameters.");
        Hyperparameters.Validate();
    }
}

