namespace EdgeLam.Model.Data;

/// <summary>How to split a training set into a public pretraining slice and non-IID device shards.</summary>
/// <param name="DeviceCount">Number of devices that receive a shard.</param>
/// <param name="Alpha">Dirichlet concentration; small values give each device few dominant labels.</param>
/// <param name="Seed">Seed of the Dirichlet draws and of the order inside each shard.</param>
/// <param name="PublicCount">Images reserved for central pretraining of the base model (never given to a device).</param>
/// <param name="PublicSeed">Seed of the shuffle that picks the public slice; the base checkpoint uses the same.</param>
/// <param name="DevicePoolCount">How many of the remaining images are split among devices (null: all of them).</param>
/// <param name="MinimumPerDevice">Every device gets at least this many images; draws are repeated until it holds.</param>
public sealed record DirichletPartitionOptions(
    int DeviceCount,
    double Alpha,
    int Seed,
    int PublicCount = 0,
    int PublicSeed = 0,
    int? DevicePoolCount = null,
    int MinimumPerDevice = 1);

/// <summary>Indices into the training set: the public slice and one shard per device, all disjoint.</summary>
public sealed record DataPartition(int[] PublicIndices, int[][] DeviceIndices)
{
    /// <summary>Per device, the fraction of its images in each class.</summary>
    public double[][] LabelDistributions(Dataset train) =>
        DeviceIndices.Select(shard =>
        {
            var fractions = new double[train.ClassCount];
            foreach (int index in shard)
                fractions[train.Labels[index]]++;
            for (int c = 0; c < fractions.Length; c++)
                fractions[c] /= Math.Max(1, shard.Length);
            return fractions;
        }).ToArray();
}

/// <summary>
/// Non-IID split by label: for each class a Dirichlet(alpha) vector over devices decides which share of
/// that class each device receives (the label-skew split of Hsu et al. 2019 and Li et al., NIID-Bench 2022).
/// Deterministic from the seeds: the generator is <see cref="SeededRandom"/>, not System.Random.
/// </summary>
public static class DirichletPartitioner
{
    private const int MaximumAttempts = 1000;

    /// <summary>
    /// The public slice: the first <paramref name="count"/> images of a shuffle of the training set seeded by
    /// <paramref name="seed"/>; the rest of that shuffle is returned as the device pool, in shuffled order.
    /// </summary>
    public static (int[] PublicIndices, int[] RemainingIndices) SelectPublicSlice(Dataset train, int count, int seed)
    {
        ArgumentNullException.ThrowIfNull(train);
        if (count < 0 || count > train.Count)
            throw new ArgumentOutOfRangeException(nameof(count), count, $"Public slice must hold between 0 and {train.Count} images.");
        int[] order = SeededRandom.ForStream(seed, "public-slice").Permutation(train.Count);
        return (order[..count], order[count..]);
    }

    public static DataPartition Partition(Dataset train, DirichletPartitionOptions options)
    {
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(options);
        if (options.DeviceCount <= 0)
            throw new ArgumentOutOfRangeException(nameof(options), options.DeviceCount, "DeviceCount must be positive.");
        if (!(options.Alpha > 0) || double.IsInfinity(options.Alpha))
            throw new ArgumentOutOfRangeException(nameof(options), options.Alpha, "Alpha must be a positive finite number.");

        (int[] publicIndices, int[] remaining) = SelectPublicSlice(train, options.PublicCount, options.PublicSeed);
        int poolCount = options.DevicePoolCount ?? remaining.Length;
        if (poolCount < 0 || poolCount > remaining.Length)
            throw new ArgumentOutOfRangeException(nameof(options), poolCount, $"DevicePoolCount must be between 0 and the {remaining.Length} images left after the public slice.");
        if ((long)options.MinimumPerDevice * options.DeviceCount > poolCount)
            throw new ArgumentException($"{poolCount} pooled images cannot give {options.DeviceCount} devices {options.MinimumPerDevice} images each.", nameof(options));

        int[] pool = remaining[..poolCount];
        List<int>[] byClass = Enumerable.Range(0, train.ClassCount).Select(_ => new List<int>()).ToArray();
        foreach (int index in pool)
            byClass[train.Labels[index]].Add(index);

        var random = SeededRandom.ForStream(options.Seed, "dirichlet");
        for (int attempt = 0; attempt < MaximumAttempts; attempt++)
        {
            List<int>[] shards = SplitOnce(byClass, options.DeviceCount, options.Alpha, random);
            if (shards.All(shard => shard.Count >= options.MinimumPerDevice))
            {
                int[][] deviceIndices = shards.Select(shard => shard.ToArray()).ToArray();
                foreach (int[] shard in deviceIndices)
                    random.Shuffle<int>(shard);
                return new DataPartition(publicIndices, deviceIndices);
            }
        }
        throw new InvalidOperationException($"No Dirichlet(alpha={options.Alpha}) split in {MaximumAttempts} draws gave every one of {options.DeviceCount} devices {options.MinimumPerDevice} images; lower MinimumPerDevice or raise alpha.");
    }

    private static List<int>[] SplitOnce(List<int>[] byClass, int deviceCount, double alpha, SeededRandom random)
    {
        List<int>[] shards = Enumerable.Range(0, deviceCount).Select(_ => new List<int>()).ToArray();
        foreach (List<int> classIndices in byClass)
        {
            double[] proportions = random.NextSymmetricDirichlet(deviceCount, alpha);
            // Cumulative cut points turn proportions into contiguous runs of this class's (already shuffled) images.
            double cumulative = 0;
            int start = 0;
            for (int device = 0; device < deviceCount; device++)
            {
                cumulative += proportions[device];
                int end = device == deviceCount - 1 ? classIndices.Count : Math.Min(classIndices.Count, (int)Math.Round(cumulative * classIndices.Count));
                for (int i = start; i < end; i++)
                    shards[device].Add(classIndices[i]);
                start = Math.Max(start, end);
            }
        }
        return shards;
    }
}
