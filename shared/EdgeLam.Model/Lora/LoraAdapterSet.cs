using EdgeLam.Model.Architecture;
using EdgeLam.Model.Data;

namespace EdgeLam.Model.Lora;

/// <summary>Which projection of which encoder block carries an adapter.</summary>
public readonly record struct LoraTarget(int Layer, string Projection);

/// <summary>
/// The LoRA adapters of one model, ordered by layer, then projection (q, k, v, o, fc1, fc2); tensors are
/// named "blocks.{layer}.{projection}.{A|B}" and enumerated A before B. A device may adapt only some layers
/// and some projections.
/// </summary>
public sealed class LoraAdapterSet
{
    private readonly LoraAdapter?[,] _byPosition;

    public LoraAdapterSet(TinyVitConfig config, int rank, float alpha, IEnumerable<LoraTarget> targets)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(targets);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(rank);
        config.Validate();
        Config = config;
        Rank = rank;
        Alpha = alpha;
        _byPosition = new LoraAdapter?[config.Layers, LoraProjections.All.Count];
        foreach (LoraTarget target in targets)
        {
            if ((uint)target.Layer >= (uint)config.Layers)
                throw new ArgumentOutOfRangeException(nameof(targets), target.Layer, $"Layer outside the model's {config.Layers} blocks.");
            int projection = LoraProjections.IndexOf(target.Projection);
            if (_byPosition[target.Layer, projection] is not null)
                throw new ArgumentException($"Adapter blocks.{target.Layer}.{target.Projection} listed twice.", nameof(targets));
            (int inFeatures, int outFeatures) = ProjectionShape(config, target.Projection);
            _byPosition[target.Layer, projection] = new LoraAdapter(target.Layer, target.Projection, inFeatures, outFeatures, rank, alpha);
        }
        var ordered = new List<LoraAdapter>();
        for (int layer = 0; layer < config.Layers; layer++)
        {
            for (int projection = 0; projection < LoraProjections.All.Count; projection++)
            {
                if (_byPosition[layer, projection] is { } adapter)
                    ordered.Add(adapter);
            }
        }
        Adapters = ordered;
    }

    /// <summary>
    /// Adapters on the given layers (default: all) and projections (default: all six), A drawn from
    /// U(−1/√In, 1/√In) with a seeded generator and B zero, as in the reference LoRA implementation.
    /// </summary>
    public static LoraAdapterSet Create(
        TinyVitConfig config, int rank, float alpha, int seed,
        IEnumerable<int>? layers = null, IEnumerable<string>? projections = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        int[] layerList = (layers ?? Enumerable.Range(0, config.Layers)).Distinct().Order().ToArray();
        string[] projectionList = (projections ?? LoraProjections.All).Distinct().ToArray();
        var set = new LoraAdapterSet(config, rank, alpha,
            layerList.SelectMany(layer => projectionList.Select(projection => new LoraTarget(layer, projection))));
        set.InitializeRandom(seed);
        return set;
    }

    public TinyVitConfig Config { get; }
    public int Rank { get; }
    public float Alpha { get; }
    public IReadOnlyList<LoraAdapter> Adapters { get; }
    public int ParameterCount => Adapters.Sum(adapter => adapter.ParameterCount);
    public IEnumerable<LoraTarget> Targets => Adapters.Select(adapter => new LoraTarget(adapter.Layer, adapter.Projection));

    /// <summary>The lowest layer that carries an adapter (backpropagation can stop below it); -1 when empty.</summary>
    public int LowestAdaptedLayer => Adapters.Count == 0 ? -1 : Adapters.Min(adapter => adapter.Layer);

    public LoraAdapter? Find(int layer, string projection) => _byPosition[layer, LoraProjections.IndexOf(projection)];

    internal LoraAdapter? Find(int layer, int projectionIndex) => _byPosition[layer, projectionIndex];

    public void InitializeRandom(int seed)
    {
        var random = SeededRandom.ForStream(seed, "lora");
        foreach (LoraAdapter adapter in Adapters)
        {
            double bound = 1.0 / Math.Sqrt(adapter.In);
            for (int i = 0; i < adapter.A.Length; i++)
                adapter.A[i] = (float)(((2.0 * random.NextDouble()) - 1.0) * bound);
            Array.Clear(adapter.B);
        }
    }

    /// <summary>Same targets and shapes, all factors zero.</summary>
    public LoraAdapterSet CloneEmpty() => new(Config, Rank, Alpha, Targets);

    public LoraAdapterSet Clone()
    {
        LoraAdapterSet copy = CloneEmpty();
        for (int i = 0; i < Adapters.Count; i++)
        {
            Adapters[i].A.CopyTo(copy.Adapters[i].A, 0);
            Adapters[i].B.CopyTo(copy.Adapters[i].B, 0);
        }
        return copy;
    }

    /// <summary>All factors as named tensors in the stable order: per adapter, A [Rank, In] then B [Out, Rank].</summary>
    public IEnumerable<(string Name, int[] Shape, float[] Values)> Tensors()
    {
        foreach (LoraAdapter adapter in Adapters)
        {
            yield return (adapter.NameA, [adapter.Rank, adapter.In], adapter.A);
            yield return (adapter.NameB, [adapter.Out, adapter.Rank], adapter.B);
        }
    }

    /// <summary>
    /// Copies values from named tensors into this set's factors. Every factor of this set must be present
    /// with its exact shape; unknown names are an error.
    /// </summary>
    public void ImportTensors(IEnumerable<(string Name, int[] Shape, float[] Values)> tensors)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        var expected = Tensors().ToDictionary(tensor => tensor.Name);
        var seen = new HashSet<string>();
        foreach ((string name, int[] shape, float[] values) in tensors)
        {
            if (!expected.TryGetValue(name, out var target))
                throw new ArgumentException($"Tensor '{name}' is not a factor of this adapter set (rank {Rank}, {Adapters.Count} adapters).", nameof(tensors));
            if (!shape.SequenceEqual(target.Shape))
                throw new ArgumentException($"Tensor '{name}' has shape [{string.Join(", ", shape)}], expected [{string.Join(", ", target.Shape)}].", nameof(tensors));
            if (values.Length != target.Values.Length)
                throw new ArgumentException($"Tensor '{name}' holds {values.Length} values, its shape needs {target.Values.Length}.", nameof(tensors));
            if (!seen.Add(name))
                throw new ArgumentException($"Tensor '{name}' appears twice.", nameof(tensors));
            values.CopyTo(target.Values, 0);
        }
        string[] missing = expected.Keys.Where(name => !seen.Contains(name)).ToArray();
        if (missing.Length > 0)
            throw new ArgumentException($"Missing adapter tensors: {string.Join(", ", missing)}.", nameof(tensors));
    }

    /// <summary>W ← W + Scaling·B·A for every adapter (the adapted model then runs without adapters).</summary>
    public void MergeInto(TinyVitWeights weights) => ApplyDelta(weights, sign: 1f);

    /// <summary>W ← W − Scaling·B·A, undoing <see cref="MergeInto"/> up to float rounding.</summary>
    public void UnmergeFrom(TinyVitWeights weights) => ApplyDelta(weights, sign: -1f);

    private void ApplyDelta(TinyVitWeights weights, float sign)
    {
        ArgumentNullException.ThrowIfNull(weights);
        if (weights.Config != Config)
            throw new ArgumentException("Adapter set and weights belong to different model configurations.", nameof(weights));
        foreach (LoraAdapter adapter in Adapters)
        {
            LinearWeights linear = LoraProjections.Select(weights.Blocks[adapter.Layer], adapter.Projection);
            float[] delta = adapter.DeltaWeight();
            System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(delta, sign, linear.W, linear.W);
        }
    }

    private static (int In, int Out) ProjectionShape(TinyVitConfig config, string projection) => projection switch
    {
        LoraProjections.Fc1 => (config.ModelDim, config.MlpDim),
        LoraProjections.Fc2 => (config.MlpDim, config.ModelDim),
        _ => (config.ModelDim, config.ModelDim),
    };
}
