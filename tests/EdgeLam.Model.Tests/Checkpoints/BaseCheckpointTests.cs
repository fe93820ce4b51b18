using EdgeLam.Model.Architecture;
using EdgeLam.Model.Checkpoints;
using EdgeLam.Model.Tests.Data;

namespace EdgeLam.Model.Tests.Checkpoints;

public sealed class BaseCheckpointTests : IDisposable
{
    private static readonly PretrainingBudget SmallBudget = new() { PublicImages = 256, Epochs = 1, BatchSize = 32, EvaluationImages = 500 };
    private readonly string _cache = Directory.CreateTempSubdirectory("edgelam-base-").FullName;

    public void Dispose() => Directory.Delete(_cache, recursive: true);

    [Fact]
    public void Trains_once_then_loads_the_identical_checkpoint_from_cache()
    {
        var messages = new List<string>();
        BaseCheckpoint trained = BaseCheckpoint.LoadOrTrain(TinyVitConfig.Tiny, 7, _cache, SmallBudget, SharedData.Fashion, messages.Add);
        Assert.False(trained.LoadedFromCache);
        Assert.True(File.Exists(trained.FilePath));
        Assert.Contains(trained.ContentHash[..16], Path.GetFileName(trained.FilePath));
        Assert.InRange(trained.TestAccuracy, 0.2, 1.0);
        Assert.True(trained.TrainingSamplesPerSecond > 0);
        Assert.Contains(messages, message => message.Contains("test accuracy"));
        Assert.Matches("^tinyvit-[0-9a-f]{16}$", trained.ModelId);

        BaseCheckpoint cached = BaseCheckpoint.LoadOrTrain(TinyVitConfig.Tiny, 7, _cache, SmallBudget, SharedData.Fashion);
        Assert.True(cached.LoadedFromCache);
        Assert.Equal(trained.TestAccuracy, cached.TestAccuracy);
        foreach (var (first, second) in trained.Weights.Tensors().Zip(cached.Weights.Tensors()))
            Assert.Equal(first.Values, second.Values);
    }

    [Fact]
    public void Pretraining_is_deterministic_from_the_seed()
    {
        string otherCache = Path.Combine(_cache, "other");
        BaseCheckpoint first = BaseCheckpoint.LoadOrTrain(TinyVitConfig.Tiny, 8, _cache, SmallBudget, SharedData.Fashion);
        BaseCheckpoint second = BaseCheckpoint.LoadOrTrain(TinyVitConfig.Tiny, 8, otherCache, SmallBudget, SharedData.Fashion);
        Assert.False(second.LoadedFromCache);
        Assert.Equal(first.TestAccuracy, second.TestAccuracy);
        foreach (var (one, other) in first.Weights.Tensors().Zip(second.Weights.Tensors()))
            Assert.True(one.Values.AsSpan().SequenceEqual(other.Values), $"{one.Name} differs between two pretraining runs");
    }

    [Fact]
    public void Content_hash_changes_with_seed_budget_and_configuration()
    {
        string key = BaseCheckpoint.ContentKeyOf(TinyVitConfig.Tiny, 1, SmallBudget);
        Assert.NotEqual(key, BaseCheckpoint.ContentKeyOf(TinyVitConfig.Tiny, 2, SmallBudget));
        Assert.NotEqual(key, BaseCheckpoint.ContentKeyOf(TinyVitConfig.Tiny, 1, SmallBudget with { Epochs = 2 }));
        Assert.NotEqual(key, BaseCheckpoint.ContentKeyOf(TinyVitConfig.Tiny with { MlpDim = 16 }, 1, SmallBudget));
        Assert.Equal(key, BaseCheckpoint.ContentKeyOf(TinyVitConfig.Tiny, 1, SmallBudget with { }));
    }

    [Fact]
    public void Corrupt_cache_is_rejected_by_name_and_retrained()
    {
        BaseCheckpoint trained = BaseCheckpoint.LoadOrTrain(TinyVitConfig.Tiny, 9, _cache, SmallBudget, SharedData.Fashion);
        byte[] bytes = File.ReadAllBytes(trained.FilePath);
        bytes[bytes.Length / 2] ^= 0x40;
        File.WriteAllBytes(trained.FilePath, bytes);

        var error = Assert.Throws<InvalidDataException>(() => BaseCheckpoint.Load(trained.FilePath, TinyVitConfig.Tiny, 9, SmallBudget));
        Assert.Contains(trained.FilePath, error.Message);
        Assert.Contains("checksum", error.Message);

        var wrongSeed = Assert.Throws<InvalidDataException>(() => BaseCheckpoint.Load(FreshCopy(trained), TinyVitConfig.Tiny, 10, SmallBudget));
        Assert.Contains("content hash", wrongSeed.Message);

        var messages = new List<string>();
        BaseCheckpoint retrained = BaseCheckpoint.LoadOrTrain(TinyVitConfig.Tiny, 9, _cache, SmallBudget, SharedData.Fashion, messages.Add);
        Assert.False(retrained.LoadedFromCache);
        Assert.Contains(messages, message => message.Contains("Discarding") && message.Contains(trained.FilePath));
        Assert.True(BaseCheckpoint.LoadOrTrain(TinyVitConfig.Tiny, 9, _cache, SmallBudget, SharedData.Fashion).LoadedFromCache);
    }

    private string FreshCopy(BaseCheckpoint checkpoint)
    {
        string directory = Path.Combine(_cache, "fresh");
        BaseCheckpoint fresh = BaseCheckpoint.LoadOrTrain(checkpoint.Config, 9, directory, SmallBudget, SharedData.Fashion);
        return fresh.FilePath;
    }
}
