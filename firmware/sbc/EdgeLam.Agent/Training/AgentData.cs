using System.Collections.Concurrent;
using EdgeLam.Model.Data;

namespace EdgeLam.Agent.Training;

/// <summary>
/// Fashion-MNIST as the agent sees it: the public slice (central pretraining) and its own Dirichlet shard of the
/// rest. The dataset and each split are loaded once per process and shared by all agents of an emulated fleet.
/// </summary>
public sealed class AgentData
{
    private static readonly ConcurrentDictionary<string, Lazy<FashionMnistData>> Datasets = new();
    private static readonly ConcurrentDictionary<string, Lazy<DataPartition>> Partitions = new();
    private readonly string _directory;
    private readonly int _publicCount;
    private readonly int _publicSeed;
    private readonly int? _poolCount;

    /// <summary>The data of the files in <paramref name="directory"/>, with the given public slice and device pool.</summary>
    public AgentData(string directory, int publicCount, int publicSeed, int? poolCount)
    {
        _directory = directory;
        _publicCount = publicCount;
        _publicSeed = publicSeed;
        _poolCount = poolCount;
    }

    /// <summary>The data of an agent with <paramref name="options"/>: the public slice is the base checkpoint's (its seed and size).</summary>
    public static AgentData For(AgentOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new AgentData(options.DataDirectory, options.PublicSliceCount, options.BaseModelSeed, options.DevicePoolCount == 0 ? null : options.DevicePoolCount);
    }

    /// <summary>The training and test sets.</summary>
    public FashionMnistData Load() =>
        Datasets.GetOrAdd(_directory, directory => new Lazy<FashionMnistData>(() => FashionMnist.Load(directory))).Value;

    /// <summary>Shard <paramref name="index"/> of a Dirichlet(<paramref name="alpha"/>) split into <paramref name="count"/> shards.</summary>
    public Dataset Shard(long seed, double alpha, int index, int count)
    {
        if (index < 0 || index >= count)
            throw new ArgumentOutOfRangeException(nameof(index), index, $"Shard index must be in [0, {count}).");
        Dataset train = Load().Train;
        string key = FormattableString.Invariant($"{_directory}|{seed}|{alpha:R}|{count}|{_publicCount}|{_publicSeed}|{_poolCount}");
        DataPartition partition = Partitions.GetOrAdd(key, _ => new Lazy<DataPartition>(() =>
            DirichletPartitioner.Partition(train, new DirichletPartitionOptions(count, alpha, unchecked((int)seed), _publicCount, _publicSeed, _poolCount)))).Value;
        return train.Subset(partition.DeviceIndices[index]);
    }
}
