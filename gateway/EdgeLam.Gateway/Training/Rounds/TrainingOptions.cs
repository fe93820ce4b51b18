using System.ComponentModel.DataAnnotations;
using EdgeLam.Contracts.Messages;
using EdgeLam.Model.Architecture;

namespace EdgeLam.Gateway.Training.Rounds;

/// <summary>Bound from the "Training" section of appsettings.json.</summary>
public sealed class TrainingOptions
{
    public const string Section = "Training";

    /// <summary>How long a round waits for updates before aggregating what arrived.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan RoundTimeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Fraction of assigned devices whose updates a round needs to be aggregated.</summary>
    [Range(0.0, 1.0)]
    public double Quorum { get; set; } = 0.5;

    /// <summary>
    /// How long a device that went offline mid-round (or every device, after a gateway restart) has to come back
    /// before it counts as failed; on its hello it gets its assignment again. Zero fails it at once.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "1.00:00:00")]
    public TimeSpan OfflineGrace { get; set; } = TimeSpan.FromSeconds(45);

    /// <summary>
    /// How long a round whose outcome the database refuses (full disk, read-only file) keeps trying to store it before
    /// it is explicitly failed; zero fails it at once.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "01:00:00")]
    public TimeSpan StorageRetry { get; set; } = TimeSpan.FromSeconds(30);

    [Range(1, 100_000)]
    public int LocalSteps { get; set; } = 20;

    [Range(1, 4096)]
    public int BatchSize { get; set; } = 32;

    [Range(1e-6, 1.0)]
    public double LearningRate { get; set; } = 2e-3;

    [Range(0.1, 1024)]
    public float LoraAlpha { get; set; } = 16f;

    /// <summary>Seed of the Dirichlet split the devices draw their shards from.</summary>
    public long PartitionSeed { get; set; } = 42;

    [Range(1, 100_000)]
    public int PartitionCount { get; set; } = 8;

    [Range(0.001, 1000)]
    public double DirichletAlpha { get; set; } = 0.5;

    /// <summary>Id of the frozen base model the adapters belong to.</summary>
    [Required, RegularExpression("^[A-Za-z0-9_.-]{1,64}$")]
    public string BaseModelId { get; set; } = "tinyvit-base";

    public int Seed { get; set; } = 1234;

    /// <summary>
    /// Which projections LoRA adapts: a kind in every block ("q") or one projection ("blocks.3.fc2"); empty adapts all
    /// six of every block. Fewer projections carry fewer bytes per update (Hu et al. 2021, §7.1: q and v suffice).
    /// </summary>
    public List<string> AdaptedProjections { get; set; } = [];

    /// <summary>
    /// Projections a device tier (L, M, H) trains instead of <see cref="AdaptedProjections"/>, in the same notation, e.g.
    /// {"L": ["blocks.3.fc2"], "M": ["q", "v"], "H": ["q", "v"]}; a tier not listed (or listed empty) trains
    /// <see cref="AdaptedProjections"/>. The adapter layout that is evaluated and merged is the union over the tiers.
    /// </summary>
    public Dictionary<string, List<string>> AdaptedProjectionsByTier { get; set; } = [];

    /// <summary><see cref="AdaptedProjectionsByTier"/> by tier; call <see cref="AdaptedProjectionsError"/> first.</summary>
    public IReadOnlyDictionary<DeviceTier, IReadOnlyCollection<string>> SelectionByTier() =>
        AdaptedProjectionsByTier.ToDictionary(entry => ParseTier(entry.Key) ?? throw new InvalidOperationException(UnknownTier(entry.Key)),
            entry => (IReadOnlyCollection<string>)entry.Value);

    /// <summary>A sentence naming the first unknown tier or projection of the projection settings for <paramref name="model"/>, or null.</summary>
    public string? AdaptedProjectionsError(TinyVitConfig model)
    {
        if (AdapterLayout.SelectionError(model, AdaptedProjections) is { } error)
            return $"{Section}:{nameof(AdaptedProjections)}: {error}";
        foreach (var (tier, selection) in AdaptedProjectionsByTier)
        {
            if (ParseTier(tier) is null)
                return UnknownTier(tier);
            if (AdapterLayout.SelectionError(model, selection) is { } tierError)
                return $"{Section}:{nameof(AdaptedProjectionsByTier)}:{tier}: {tierError}";
        }
        return null;
    }

    private static DeviceTier? ParseTier(string name) =>
        Enum.GetValues<DeviceTier>().Select(t => (DeviceTier?)t).FirstOrDefault(t => WireMessages.EnumName(t!.Value) == name);

    private static string UnknownTier(string name) =>
        $"{Section}:{nameof(AdaptedProjectionsByTier)} names tier '{name}'; the tiers are {string.Join(", ", Enum.GetValues<DeviceTier>().Select(t => WireMessages.EnumName(t)))}.";

    /// <summary>Updates with a larger norm are rejected (‖Σ s·B·A‖ of the adapters, ‖w − w_global‖ of full weights).</summary>
    [Range(1e-6, 1e12)]
    public double MaximumUpdateNorm { get; set; } = TrainingHyperparameters.DefaultMaximumUpdateNorm;
}
