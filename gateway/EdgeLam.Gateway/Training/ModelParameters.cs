namespace EdgeLam.Gateway.Training;

/// <summary>
/// LoRA factors of one adapted projection W (Out×In): the adapter adds ΔW = Scale·B·A, with
/// A (Rank×In) and B (Out×Rank) row-major. A device of rank r uses Scale = alpha / r (Hu et al. 2021, §4.1);
/// the FedFT-H global keeps the exact aggregate as a scaled product with Scale = 1.
/// </summary>
public sealed record LoraFactors(int Rank, int InFeatures, int OutFeatures, float[] A, float[] B, float Scale)
{
    /// <summary>Throws when the buffers do not match the declared shape or hold NaN/infinity.</summary>
    public void Validate(string projection)
    {
        if (ValidationError(projection) is { } error)
            throw new ArgumentException(error);
    }

    /// <summary>A sentence that names what is wrong, or null when the factors are well-formed.</summary>
    public string? ValidationError(string projection)
    {
        if (Rank < 0 || InFeatures <= 0 || OutFeatures <= 0)
            return $"{projection}: rank {Rank}, in {InFeatures}, out {OutFeatures} is not a valid LoRA shape.";
        if (A is null || A.Length != Rank * InFeatures)
            return $"{projection}.A holds {A?.Length ?? 0} values, rank {Rank} × in {InFeatures} needs {Rank * InFeatures}.";
        if (B is null || B.Length != OutFeatures * Rank)
            return $"{projection}.B holds {B?.Length ?? 0} values, out {OutFeatures} × rank {Rank} needs {OutFeatures * Rank}.";
        if (!float.IsFinite(Scale))
            return $"{projection}: scale {Scale} is not finite.";
        if (FirstNonFinite(A) is { } a)
            return $"{projection}.A[{a}] is {A[a]}; non-finite values are not aggregated.";
        if (FirstNonFinite(B) is { } b)
            return $"{projection}.B[{b}] is {B[b]}; non-finite values are not aggregated.";
        return null;
    }

    /// <summary>The dense update Scale·B·A, row-major Out×In (for evaluation and reference checks).</summary>
    public float[] ToDenseDelta()
    {
        var delta = new float[OutFeatures * InFeatures];
        for (var o = 0; o < OutFeatures; o++)
        {
            for (var k = 0; k < Rank; k++)
            {
                var factor = (double)Scale * B[(o * Rank) + k];
                if (factor == 0)
                    continue;
                for (var i = 0; i < InFeatures; i++)
                    delta[(o * InFeatures) + i] += (float)(factor * A[(k * InFeatures) + i]);
            }
        }
        return delta;
    }

    internal static int? FirstNonFinite(float[] values)
    {
        for (var i = 0; i < values.Length; i++)
            if (!float.IsFinite(values[i]))
                return i;
        return null;
    }
}

/// <summary>
/// What a device trains or receives: LoRA factors per adapted projection (keyed "blocks.{layer}.{q|k|v|o|fc1|fc2}")
/// and, for full-model FedAvg only, full weight tensors keyed by their model name.
/// </summary>
public sealed record ModelParameters(
    IReadOnlyDictionary<string, LoraFactors> Adapters,
    IReadOnlyDictionary<string, float[]> FullWeights)
{
    public static ModelParameters Empty { get; } = new(
        new Dictionary<string, LoraFactors>(), new Dictionary<string, float[]>());

    public static ModelParameters FromAdapters(IReadOnlyDictionary<string, LoraFactors> adapters) =>
        new(adapters, Empty.FullWeights);

    public static ModelParameters FromFullWeights(IReadOnlyDictionary<string, float[]> fullWeights) =>
        new(Empty.Adapters, fullWeights);

    /// <summary>Number of float values carried (factor and weight entries).</summary>
    public long ParameterCount =>
        Adapters.Values.Sum(f => (long)f.A.Length + f.B.Length) + FullWeights.Values.Sum(w => (long)w.Length);
}

/// <summary>The server-side model after <see cref="AggregatedRounds"/> successful aggregations.</summary>
public sealed record GlobalModelState(int AggregatedRounds, ModelParameters Parameters)
{
    /// <summary>No adapter trained yet: every device starts from a fresh LoRA initialization (A random, B zero).</summary>
    public static GlobalModelState Initial { get; } = new(0, ModelParameters.Empty);

    /// <summary>Starting point of full-model FedAvg: the frozen base checkpoint's tensors.</summary>
    public static GlobalModelState FromBaseWeights(IReadOnlyDictionary<string, float[]> baseWeights) =>
        new(0, ModelParameters.FromFullWeights(baseWeights));
}
