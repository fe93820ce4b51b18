using System.Collections.Concurrent;
using EdgeLam.Model.Architecture;
using EdgeLam.Model.Data;
using EdgeLam.Model.Training;

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
/// The base model produced from a seed: Xavier initialization, then central pretraining on the public slice of
/// Fashion-MNIST (never part of any device shard). Stand-in until a shared base checkpoint exists in the model
/// core; deterministic, so every agent and the gateway built from the same seed agree. Cached per process.
/// </summary>
public sealed class PretrainedBaseModelSource : IBaseModelSource
{
    private static readonly ConcurrentDictionary<string, Lazy<BaseModel>> Cache = new();
    private readonly TinyVitConfig _config;
    private readonly int _seed;
    private readonly int _steps;
    private readonly AgentData _data;
    private readonly string _key;

    /// <summary>A source for <paramref name="config"/> pretrained <paramref name="steps"/> steps from <paramref name="seed"/>.</summary>
    public PretrainedBaseModelSource(TinyVitConfig config, int seed, int steps, AgentData data)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(data);
        _config = config;
        _seed = seed;
        _steps = steps;
        _data = data;
        _key = $"tinyvit-d{config.ModelDim}-l{config.Layers}-h{config.Heads}-m{config.MlpDim}-s{seed}-p{steps}-{data.PublicKey}";
    }

    /// <summary>Model configuration named by <see cref="AgentOptions.ModelSize"/>.</summary>
    public static TinyVitConfig ConfigOf(string modelSize) => modelSize switch
    {
        "tiny" => TinyVitConfig.Tiny,
        "default" => new TinyVitConfig(),
        _ => throw new ArgumentException($"Unknown model size '{modelSize}': expected default or tiny.", nameof(modelSize)),
    };

    /// <inheritdoc/>
    public BaseModel Get(CancellationToken cancellationToken) =>
        Cache.GetOrAdd(_key, _ => new Lazy<BaseModel>(Pretrain, LazyThreadSafetyMode.ExecutionAndPublication)).Value;

    private BaseModel Pretrain()
    {
        var model = TinyVitModel.CreateRandom(_config, _seed);
        Dataset publicSlice = _data.PublicSlice();
        if (publicSlice.Count > 0)
        {
            Trainer.Train(model, publicSlice, new TrainingOptions
            {
                Epochs = int.MaxValue / Math.Max(1, publicSlice.Count),
                MaximumSteps = _steps,
                BatchSize = 64,
                LearningRate = 3e-3f,
                Seed = _seed,
            }, TrainingMode.Full);
        }

        string id = _key.Length <= 64 ? _key : _key[..64];
        return new BaseModel(id, model.Weights);
    }
}
