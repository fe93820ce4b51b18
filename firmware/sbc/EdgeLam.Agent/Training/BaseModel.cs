using System.Collections.Concurrent;
using EdgeLam.Model.Architecture;
using EdgeLam.Model.Checkpoints;

namespace EdgeLam.Agent.Training;

/// <summary>The frozen base model that LoRA adapts, with the id that update headers name.</summary>
/// <param name="Id">Base model id (contract identifier, [A-Za-z0-9._-]{1,64}).</param>
/// <param name="Weights">The frozen weights; never modified.</param>
public sealed record BaseModel(string Id, TinyVitWeights Weights);

/// <summary>Where the agent gets its frozen base model.</summary>
public interface IBaseModelSource
{
    /// <summary>The base model; the same instance on every call.</summary>
    BaseModel Get(CancellationToken cancellationToken);
}

/// <summary>
/// The model core's base checkpoint: produced deterministically from a seed by central pretraining on the public
/// slice, cached on disk and shared by the gateway, the firmware emulator and every agent. Loaded once per process.
/// </summary>
public sealed class CheckpointBaseModelSource : IBaseModelSource
{
    private static readonly ConcurrentDictionary<string, Lazy<BaseModel>> Loaded = new();
    private readonly TinyVitConfig _config;
    private readonly int _seed;
    private readonly string _directory;
    private readonly PretrainingBudget _budget;
    private readonly AgentData _data;

    /// <summary>The checkpoint of <paramref name="config"/> from <paramref name="seed"/> with <paramref name="budget"/>, cached in <paramref name="directory"/>.</summary>
    public CheckpointBaseModelSource(TinyVitConfig config, int seed, string directory, PretrainingBudget budget, AgentData data)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(budget);
        ArgumentNullException.ThrowIfNull(data);
        _config = config;
        _seed = seed;
        _directory = directory;
        _budget = budget;
        _data = data;
    }

    /// <summary>The source an agent with <paramref name="options"/> uses.</summary>
    public static CheckpointBaseModelSource For(AgentOptions options, AgentData data)
    {
        ArgumentNullException.ThrowIfNull(options);
        var budget = new PretrainingBudget { PublicImages = options.PublicSliceCount, Epochs = options.PretrainingEpochs };
        return new CheckpointBaseModelSource(ConfigOf(options.ModelSize), options.BaseModelSeed, options.CheckpointDirectory, budget, data);
    }

    /// <summary>Model configuration named by <see cref="AgentOptions.ModelSize"/>.</summary>
    public static TinyVitConfig ConfigOf(string modelSize) => modelSize switch
    {
        "tiny" => TinyVitConfig.Tiny,
        "default" => new TinyVitConfig(),
        _ => throw new ArgumentException($"Unknown model size '{modelSize}': expected default or tiny.", nameof(modelSize)),
    };

    /// <inheritdoc/>
    public BaseModel Get(CancellationToken cancellationToken)
    {
        string key = Path.GetFullPath(BaseCheckpoint.FilePathOf(_directory, BaseCheckpoint.ContentHashOf(BaseCheckpoint.ContentKeyOf(_config, _seed, _budget))));
        return Loaded.GetOrAdd(key, _ => new Lazy<BaseModel>(() =>
        {
            BaseCheckpoint checkpoint = BaseCheckpoint.LoadOrTrain(_config, _seed, _directory, _budget, _data.Load(), cancellationToken: cancellationToken);
            return new BaseModel(checkpoint.ModelId, checkpoint.Weights);
        }, LazyThreadSafetyMode.ExecutionAndPublication)).Value;
    }
}
