using EdgeLam.Contracts.Messages;
using EdgeLam.Model.Architecture;

namespace EdgeLam.Gateway.Training;

/// <summary>One projection that LoRA may adapt: its layer, its kind (q, k, v, o, fc1, fc2) and its W shape.</summary>
public sealed record AdaptedProjection(int Layer, string Kind, int InFeatures, int OutFeatures)
{
    /// <summary>"blocks.{layer}.{kind}"; the factors travel as "{Name}.A" and "{Name}.B".</summary>
    public string Name => ProjectionNames.Of(Layer, Kind);
}

/// <summary>Naming of adapted projections and their factors on the wire and in stores.</summary>
public static class ProjectionNames
{
    public static IReadOnlyList<string> Kinds { get; } = ["q", "k", "v", "o", "fc1", "fc2"];

    public static string Of(int layer, string kind) => $"blocks.{layer}.{kind}";

    public static string FactorA(string projection) => projection + ".A";

    public static string FactorB(string projection) => projection + ".B";

    /// <summary>Parses "blocks.{layer}.{kind}"; false for anything else.</summary>
    public static bool TryParse(string name, out int layer, out string kind)
    {
        layer = -1;
        kind = "";
        var parts = name.Split('.');
        if (parts.Length != 3 || parts[0] != "blocks" || !int.TryParse(parts[1], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out layer)
            || !Kinds.Contains(parts[2]))
            return false;
        kind = parts[2];
        return true;
    }
}

/// <summary>
/// The set of adapted projections of the frozen base model, in a stable order, and which of them each device tier
/// trains: the layout is the union that is evaluated and merged, a tier's plan may be a part of it.
/// </summary>
public sealed class AdapterLayout
{
    private readonly Dictionary<string, AdaptedProjection> byName;
    private readonly IReadOnlyDictionary<DeviceTier, IReadOnlySet<string>> tierProjections;

    /// <param name="tierProjections">
    /// Names of the projections each listed tier trains, all within <paramref name="projections"/>; a tier not listed trains all of them.
    /// </param>
    public AdapterLayout(IEnumerable<AdaptedProjection> projections, IReadOnlyDictionary<string, int[]>? weightShapes = null,
        IReadOnlyDictionary<DeviceTier, IReadOnlySet<string>>? tierProjections = null)
    {
        WeightShapes = weightShapes ?? new Dictionary<string, int[]>(StringComparer.Ordinal);
        Projections = projections.OrderBy(p => p.Layer).ThenBy(p => ProjectionNames.Kinds.ToList().IndexOf(p.Kind)).ToArray();
        byName = new Dictionary<string, AdaptedProjection>(StringComparer.Ordinal);
        foreach (var projection in Projections)
        {
            if (projection.InFeatures <= 0 || projection.OutFeatures <= 0)
                throw new ArgumentException($"{projection.Name} has shape {projection.OutFeatures}x{projection.InFeatures}.", nameof(projections));
            if (!byName.TryAdd(projection.Name, projection))
                throw new ArgumentException($"{projection.Name} appears twice in the adapter layout.", nameof(projections));
        }
        Layers = Projections.Select(p => p.Layer).Distinct().ToArray();
        this.tierProjections = tierProjections ?? new Dictionary<DeviceTier, IReadOnlySet<string>>();
        foreach (var (tier, names) in this.tierProjections)
        {
            if (names.FirstOrDefault(name => !byName.ContainsKey(name)) is { } unknown)
                throw new ArgumentException($"Tier {WireMessages.EnumName(tier)} is to train {unknown}, which is not in the adapter layout.", nameof(tierProjections));
        }
    }

    public IReadOnlyList<AdaptedProjection> Projections { get; }

    public IReadOnlyList<int> Layers { get; }

    /// <summary>
    /// Every trainable tensor of the full model by its model name ("blocks.0.q.weight"), with its shape: what a
    /// full-model FedAvg update must carry. Empty when the layout was built from projections alone.
    /// </summary>
    public IReadOnlyDictionary<string, int[]> WeightShapes { get; }

    /// <summary>Number of trainable values of the full model (0 when <see cref="WeightShapes"/> is empty).</summary>
    public long FullParameterCount => WeightShapes.Values.Sum(shape => shape.Aggregate(1L, (product, dim) => product * dim));

    public bool TryGet(string name, out AdaptedProjection projection) => byName.TryGetValue(name, out projection!);

    /// <summary>The projections of the given layers (all layers when null).</summary>
    public IEnumerable<AdaptedProjection> ProjectionsOfLayers(IReadOnlyCollection<int>? layers) =>
        layers is null ? Projections : Projections.Where(p => layers.Contains(p.Layer));

    /// <summary>The projections a device of <paramref name="tier"/> trains within the given layers (all layers when null).</summary>
    public IEnumerable<AdaptedProjection> ProjectionsFor(DeviceTier tier, IReadOnlyCollection<int>? layers) =>
        tierProjections.TryGetValue(tier, out var names)
            ? ProjectionsOfLayers(layers).Where(p => names.Contains(p.Name))
            : ProjectionsOfLayers(layers);

    /// <summary>
    /// The adapted projections of the tiny ViT: all six of every encoder block when <paramref name="selection"/> is
    /// null or empty; otherwise each entry is a kind adapted in every block ("q") or one projection ("blocks.3.fc2").
    /// A tier in <paramref name="selectionByTier"/> with entries trains only what they select; the other tiers train
    /// what <paramref name="selection"/> selects, and the layout is the union of what every tier trains.
    /// </summary>
    public static AdapterLayout ForTinyVit(TinyVitConfig config, IReadOnlyCollection<string>? selection = null,
        IReadOnlyDictionary<DeviceTier, IReadOnlyCollection<string>>? selectionByTier = null)
    {
        config.Validate();
        if (SelectionError(config, selection) is { } error)
            throw new ArgumentException(error, nameof(selection));
        foreach (var (tier, tierSelection) in selectionByTier ?? new Dictionary<DeviceTier, IReadOnlyCollection<string>>())
        {
            if (SelectionError(config, tierSelection) is { } tierError)
                throw new ArgumentException($"Tier {WireMessages.EnumName(tier)}: {tierError}", nameof(selectionByTier));
        }
        var projections = new List<AdaptedProjection>();
        for (var layer = 0; layer < config.Layers; layer++)
        {
            foreach (var kind in new[] { "q", "k", "v", "o" })
                projections.Add(new AdaptedProjection(layer, kind, config.ModelDim, config.ModelDim));
            projections.Add(new AdaptedProjection(layer, "fc1", config.ModelDim, config.MlpDim));
            projections.Add(new AdaptedProjection(layer, "fc2", config.MlpDim, config.ModelDim));
        }
        var shapes = new TinyVitWeights(config).Tensors().ToDictionary(t => t.Name, t => t.Shape, StringComparer.Ordinal);
        var byTier = (selectionByTier ?? new Dictionary<DeviceTier, IReadOnlyCollection<string>>()).Where(entry => entry.Value is { Count: > 0 }).ToArray();
        if (byTier.Length == 0)
            return new AdapterLayout(projections.Where(p => Selects(selection, p)), shapes);

        var tierProjections = Enum.GetValues<DeviceTier>().ToDictionary(
            tier => tier,
            tier => (IReadOnlySet<string>)projections
                .Where(p => Selects(byTier.FirstOrDefault(entry => entry.Key == tier).Value ?? selection, p))
                .Select(p => p.Name).ToHashSet(StringComparer.Ordinal));
        return new AdapterLayout(projections.Where(p => tierProjections.Values.Any(names => names.Contains(p.Name))), shapes, tierProjections);
    }

    private static bool Selects(IReadOnlyCollection<string>? selection, AdaptedProjection projection) =>
        selection is not { Count: > 0 } || selection.Contains(projection.Kind) || selection.Contains(projection.Name);

    /// <summary>A sentence naming the first entry that selects no projection of <paramref name="config"/>, or null.</summary>
    public static string? SelectionError(TinyVitConfig config, IReadOnlyCollection<string>? selection)
    {
        ArgumentNullException.ThrowIfNull(config);
        foreach (var entry in selection ?? [])
        {
            var known = ProjectionNames.Kinds.Contains(entry)
                || (ProjectionNames.TryParse(entry, out var layer, out _) && layer < config.Layers);
            if (!known)
                return $"Adapted projection '{entry}' is neither a kind ({string.Join(", ", ProjectionNames.Kinds)}) nor blocks.{{0..{config.Layers - 1}}}.{{kind}}.";
        }
        return null;
    }
}
