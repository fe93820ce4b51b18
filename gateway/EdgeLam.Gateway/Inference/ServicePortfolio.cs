using EdgeLam.Contracts.Messages;
using EdgeLam.Model.Architecture;
using EdgeLam.Model.Onnx;
using EdgeLam.Model.Variants;

namespace EdgeLam.Gateway.Inference;

/// <summary>One microservice variant: a stage of the model in one precision, with its measured accuracy and its size.</summary>
/// <param name="StageId">Stage served ("embed", "block{i}", "head").</param>
/// <param name="StageIndex">Position of the stage in the pipeline.</param>
/// <param name="Variant">Precision variant.</param>
/// <param name="SizeBytes">Serialized model size, bytes.</param>
/// <param name="MacsPerImage">Multiply-accumulates of one image through the stage (pruned units removed).</param>
/// <param name="SwappedAccuracy">Test-set accuracy of the FP32 pipeline with only this stage swapped for this variant.</param>
public sealed record StageVariant(string StageId, int StageIndex, ModelVariant Variant, long SizeBytes, long MacsPerImage, double SwappedAccuracy)
{
    /// <summary>Wire id, e.g. "block0-int8".</summary>
    public string VariantId => $"{StageId}-{Variant.WireName()}";

    /// <summary>The wire precision a device must support to run this variant.</summary>
    public Precision Precision => Variant switch
    {
        ModelVariant.Fp32 => Precision.Fp32,
        ModelVariant.Fp16 => Precision.Fp16,
        ModelVariant.Int8 => Precision.Int8,
        _ => Precision.PrunedInt8,
    };

    /// <summary>True for variants a device with int8 support can run (INT8 and Pruned-INT8 both need only int8 kernels).</summary>
    public bool RunsOn(IReadOnlyCollection<Precision> precisions) =>
        precisions.Contains(Precision) || (Variant == ModelVariant.PrunedInt8 && precisions.Contains(Precision.Int8));
}

/// <summary>
/// The microservice portfolio: every stage in every variant, with accuracy measured on the test set by the model
/// core (whole chain per variant, and per swapped stage), serialized size and MACs.
/// </summary>
public sealed class ServicePortfolio
{
    private readonly StageVariant[][] _byStage;
    private readonly Dictionary<string, StageVariant> _byId;

    /// <param name="stages">Stage ids in pipeline order.</param>
    /// <param name="variants">Every variant of every stage.</param>
    /// <param name="referenceAccuracy">Test-set accuracy of the whole FP32 chain.</param>
    /// <param name="wholeModelAccuracy">Test-set accuracy of the whole chain in each variant.</param>
    /// <param name="pixelsPerImage">Input length of the first stage.</param>
    public ServicePortfolio(IReadOnlyList<string> stages, IEnumerable<StageVariant> variants, double referenceAccuracy, IReadOnlyDictionary<ModelVariant, double> wholeModelAccuracy, int pixelsPerImage = 784)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(pixelsPerImage);
        PixelsPerImage = pixelsPerImage;
        ArgumentNullException.ThrowIfNull(stages);
        ArgumentNullException.ThrowIfNull(variants);
        if (stages.Count == 0) throw new ArgumentException("A portfolio needs at least one stage.", nameof(stages));
        Stages = stages.ToArray();
        var all = variants.ToArray();
        _byStage = new StageVariant[Stages.Count][];
        for (var i = 0; i < Stages.Count; i++)
        {
            var index = i;
            _byStage[i] = all.Where(v => v.StageIndex == index).OrderBy(v => v.Variant).ToArray();
            if (_byStage[i].Length == 0) throw new ArgumentException($"Stage '{Stages[i]}' has no variant.", nameof(variants));
            if (_byStage[i].Any(v => v.StageId != Stages[index]))
                throw new ArgumentException($"A variant of stage index {i} names a stage other than '{Stages[i]}'.", nameof(variants));
        }

        _byId = all.ToDictionary(v => v.VariantId, StringComparer.Ordinal);
        ReferenceAccuracy = referenceAccuracy;
        WholeModelAccuracy = wholeModelAccuracy;
    }

    /// <summary>Pixels of one input image (the first stage's input length).</summary>
    public int PixelsPerImage { get; }

    /// <summary>Stage ids in pipeline order (embed, block0.., head).</summary>
    public IReadOnlyList<string> Stages { get; }

    /// <summary>Accuracy of the whole FP32 chain on the test set.</summary>
    public double ReferenceAccuracy { get; }

    /// <summary>Accuracy of the whole chain in one variant, on the test set.</summary>
    public IReadOnlyDictionary<ModelVariant, double> WholeModelAccuracy { get; }

    /// <summary>Every variant of every stage.</summary>
    public IEnumerable<StageVariant> All => _byStage.SelectMany(s => s);

    /// <summary>The variants of the stage at <paramref name="stageIndex"/>.</summary>
    public IReadOnlyList<StageVariant> VariantsOf(int stageIndex) => _byStage[stageIndex];

    public bool TryFind(string variantId, out StageVariant variant) => _byId.TryGetValue(variantId, out variant!);

    /// <summary>
    /// Accuracy estimate of a mixed chain: the FP32 accuracy minus the sum of each swapped stage's measured drop
    /// (first-order additive model of per-stage quantization error; an estimate, the chain itself is not measured).
    /// </summary>
    public double ChainAccuracyEstimate(IEnumerable<StageVariant> chain)
    {
        ArgumentNullException.ThrowIfNull(chain);
        return ReferenceAccuracy + chain.Sum(v => v.SwappedAccuracy - ReferenceAccuracy);
    }

    /// <summary>
    /// One variant per stage, sized to a request's accuracy floor: starting from each stage's most accurate variant, the
    /// swap that saves the most bytes while <see cref="ChainAccuracyEstimate"/> stays at or above
    /// <paramref name="minimumAccuracy"/> is taken until none is left (greedy knapsack, largest saving first). When even the
    /// most accurate chain misses the floor, that chain is returned.
    /// </summary>
    /// <param name="minimumAccuracy">The accuracy floor.</param>
    /// <param name="precisions">Only variants a device with these precisions runs; null for every variant. A stage it runs none of keeps its most accurate variant.</param>
    public IReadOnlyList<StageVariant> SizedChain(double minimumAccuracy, IReadOnlyCollection<Precision>? precisions = null)
    {
        StageVariant[] Candidates(int stage) => precisions is null || !_byStage[stage].Any(v => v.RunsOn(precisions))
            ? _byStage[stage]
            : _byStage[stage].Where(v => v.RunsOn(precisions)).ToArray();
        var chain = Enumerable.Range(0, _byStage.Length).Select(stage => Candidates(stage).OrderByDescending(v => v.SwappedAccuracy).ThenBy(v => v.SizeBytes).First()).ToArray();
        while (true)
        {
            var accuracy = ChainAccuracyEstimate(chain);
            var swap = Enumerable.Range(0, chain.Length)
                .SelectMany(stage => Candidates(stage).Where(v => v.SizeBytes < chain[stage].SizeBytes).Select(v => (Stage: stage, Variant: v)))
                .Where(x => accuracy - chain[x.Stage].SwappedAccuracy + x.Variant.SwappedAccuracy >= minimumAccuracy)
                .OrderByDescending(x => chain[x.Stage].SizeBytes - x.Variant.SizeBytes).ThenByDescending(x => x.Variant.SwappedAccuracy).ThenBy(x => x.Stage)
                .FirstOrDefault();
            if (swap.Variant is null) return chain;
            chain[swap.Stage] = swap.Variant;
        }
    }

    /// <summary>The portfolio of a model's variants with the accuracy reports the model core measured for them.</summary>
    public static ServicePortfolio FromModel(IReadOnlyDictionary<ModelVariant, VariantModel> variants, IReadOnlyList<VariantAccuracyReport> accuracy)
    {
        ArgumentNullException.ThrowIfNull(variants);
        ArgumentNullException.ThrowIfNull(accuracy);
        if (!variants.TryGetValue(ModelVariant.Fp32, out var fp32))
            throw new ArgumentException("The portfolio needs the FP32 variant as its reference.", nameof(variants));
        var reports = accuracy.ToDictionary(r => r.Variant);
        if (!reports.TryGetValue(ModelVariant.Fp32, out var reference))
            throw new ArgumentException("The accuracy reports must include FP32.", nameof(accuracy));
        var config = fp32.Weights.Config;
        var pipeline = ModelStage.Pipeline(config);
        var entries = new List<StageVariant>();
        foreach (var (kind, model) in variants)
        {
            if (!reports.TryGetValue(kind, out var report))
                throw new ArgumentException($"No accuracy report for variant {kind.WireName()}.", nameof(accuracy));
            for (var i = 0; i < pipeline.Count; i++)
            {
                var stage = pipeline[i];
                if (!report.SwappedStages.TryGetValue(stage.Name, out var swapped))
                    throw new ArgumentException($"The {kind.WireName()} report has no accuracy for stage '{stage.Name}'.", nameof(accuracy));
                entries.Add(new StageVariant(stage.Name, i, kind, model.SerializedBytes(stage), StageMacsPerImage(config, stage, model.MlpSparsity), swapped));
            }
        }

        return new ServicePortfolio(pipeline.Select(s => s.Name).ToArray(), entries, reference.WholeModel,
            reports.ToDictionary(pair => pair.Key, pair => pair.Value.WholeModel), config.PixelsPerImage);
    }

    /// <summary>Forward MACs of one image through a stage; pruning removes a fraction of the MLP hidden units.</summary>
    public static long StageMacsPerImage(TinyVitConfig config, ModelStage stage, double mlpSparsity = 0)
    {
        ArgumentNullException.ThrowIfNull(config);
        long tokens = config.Tokens;
        long dim = config.ModelDim;
        long keptMlp = (long)Math.Round(config.MlpDim * (1 - mlpSparsity));
        // q, k, v, o projections; attention scores and weighted sum; the two MLP layers.
        long block = (4 * tokens * dim * dim) + (2 * tokens * tokens * dim) + (2 * tokens * dim * keptMlp);
        return stage.Kind switch
        {
            ModelStageKind.Embedding => tokens * config.PatchDim * dim,
            ModelStageKind.Block => block,
            ModelStageKind.Head => dim * config.Classes,
            _ => (tokens * config.PatchDim * dim) + (config.Layers * block) + (dim * config.Classes),
        };
    }
}
