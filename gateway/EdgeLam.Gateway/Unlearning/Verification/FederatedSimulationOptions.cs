namespace EdgeLam.Gateway.Unlearning.Verification;

/// <summary>Size and settings of an in-process federation with one backdoor attacker, for verifying unlearning.</summary>
public sealed record FederatedSimulationOptions
{
    /// <summary>LoRA rank of each device (16: H-tier, 8: M-tier, 4: L-tier); the fleet has one device per entry.</summary>
    public IReadOnlyList<int> DeviceRanks { get; init; } = [8, 8, 4, 4];

    /// <summary>The device that plants the backdoor and is then forgotten.</summary>
    public int ForgottenDeviceIndex { get; init; }

    /// <summary>Training images pooled for the devices (Dirichlet split), per device on average.</summary>
    public int ImagesPerDevice { get; init; } = 500;

    /// <summary>Images held back as the base model's public pretraining slice; shards never include them.</summary>
    public int PublicImages { get; init; }

    /// <summary>Seed of the public slice shuffle (the base checkpoint's seed, when it was pretrained on that slice).</summary>
    public int PublicSeed { get; init; }

    public double DirichletAlpha { get; init; } = 1.0;

    /// <summary>Fraction of the attacker's shard that carries the trigger and the target label.</summary>
    public double PoisonFraction { get; init; } = 0.5;

    public BackdoorTrigger Trigger { get; init; } = new();

    public int Rounds { get; init; } = 3;
    public int LocalSteps { get; init; } = 20;
    public int BatchSize { get; init; } = 32;
    public double LearningRate { get; init; } = 3e-3;
    public float LoraAlpha { get; init; } = 16f;
    public int Seed { get; init; } = 7;

    /// <summary>Rounds with the remaining devices that the calibrated method runs after its replay.</summary>
    public int CalibrationRounds { get; init; } = 1;

    /// <summary>Test images evaluated (null: the whole test set).</summary>
    public int? TestImages { get; init; } = 2000;

    /// <summary>SQLite file the contributions are stored in; null uses a temporary file that is deleted afterwards.</summary>
    public string? DatabasePath { get; init; }

    public void Validate()
    {
        if (DeviceRanks is null || DeviceRanks.Count < 2)
            throw new ArgumentException("A federation to unlearn from needs at least two devices.", nameof(DeviceRanks));
        if (DeviceRanks.Any(r => r < 1 || r > 64))
            throw new ArgumentOutOfRangeException(nameof(DeviceRanks), $"Device ranks [{string.Join(", ", DeviceRanks)}] must be 1..64.");
        if (ForgottenDeviceIndex < 0 || ForgottenDeviceIndex >= DeviceRanks.Count)
            throw new ArgumentOutOfRangeException(nameof(ForgottenDeviceIndex), ForgottenDeviceIndex, $"The forgotten device must be one of the {DeviceRanks.Count} devices.");
        if (ImagesPerDevice < 1 || PublicImages < 0)
            throw new ArgumentOutOfRangeException(nameof(ImagesPerDevice), $"Images per device {ImagesPerDevice} must be positive and public images {PublicImages} not negative.");
        if (!(DirichletAlpha > 0) || double.IsInfinity(DirichletAlpha))
            throw new ArgumentOutOfRangeException(nameof(DirichletAlpha), DirichletAlpha, "The Dirichlet alpha must be positive and finite.");
        if (!(PoisonFraction is >= 0 and <= 1))
            throw new ArgumentOutOfRangeException(nameof(PoisonFraction), PoisonFraction, "The poisoned fraction must be in [0, 1].");
        if (Rounds < 1 || LocalSteps < 1 || BatchSize < 1 || CalibrationRounds < 0)
            throw new ArgumentOutOfRangeException(nameof(Rounds), $"Rounds {Rounds}, local steps {LocalSteps} and batch size {BatchSize} must be positive, calibration rounds {CalibrationRounds} not negative.");
        if (!(LearningRate > 0) || !float.IsFinite(LoraAlpha) || !(LoraAlpha > 0))
            throw new ArgumentOutOfRangeException(nameof(LearningRate), $"Learning rate {LearningRate} and LoRA alpha {LoraAlpha} must be positive.");
        if (TestImages is < 1)
            throw new ArgumentOutOfRangeException(nameof(TestImages), TestImages, "Test images must be positive (or null for all).");
        ArgumentNullException.ThrowIfNull(Trigger);
    }
}
