using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using EdgeLam.Model.Architecture;
using EdgeLam.Model.Data;
using EdgeLam.Model.Training;

namespace EdgeLam.Model.Checkpoints;

/// <summary>
/// The frozen base model every device adapts: pretrained centrally on the public slice only, deterministic
/// from (configuration, seed, budget, <see cref="CodeVersion"/>), cached on disk under a file name that
/// carries the hash of exactly that, and verified against it when loaded.
/// </summary>
public sealed class BaseCheckpoint
{
    /// <summary>Raise when training or model code changes results, so stale caches are not reused.</summary>
    public const int CodeVersion = 1;

    private BaseCheckpoint(TinyVitWeights weights, string contentKey, string contentHash, double testAccuracy, double samplesPerSecond, double trainingSeconds, string filePath, bool loadedFromCache)
    {
        Weights = weights;
        ContentKey = contentKey;
        ContentHash = contentHash;
        TestAccuracy = testAccuracy;
        TrainingSamplesPerSecond = samplesPerSecond;
        TrainingSeconds = trainingSeconds;
        FilePath = filePath;
        LoadedFromCache = loadedFromCache;
    }

    public TinyVitWeights Weights { get; }
    public TinyVitConfig Config => Weights.Config;
    /// <summary>The text hashed into <see cref="ContentHash"/>: configuration, seed, budget, code version.</summary>
    public string ContentKey { get; }
    /// <summary>Lower-case hex SHA-256 of <see cref="ContentKey"/>.</summary>
    public string ContentHash { get; }
    /// <summary>The base model's id on the wire (baseModelId): "tinyvit-" and 16 hex digits of the hash.</summary>
    public string ModelId => $"tinyvit-{ContentHash[..16]}";
    /// <summary>Accuracy on the official test set (or the budget's evaluation images), measured after pretraining.</summary>
    public double TestAccuracy { get; }
    /// <summary>Pretraining throughput measured when the checkpoint was trained.</summary>
    public double TrainingSamplesPerSecond { get; }
    public double TrainingSeconds { get; }
    public string FilePath { get; }
    public bool LoadedFromCache { get; }

    /// <summary>A model over these weights (share them; do not train the base through it).</summary>
    public TinyVitModel CreateModel() => new(Weights);

    /// <summary>The text whose SHA-256 names and verifies a checkpoint.</summary>
    public static string ContentKeyOf(TinyVitConfig config, int seed, PretrainingBudget budget)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(budget);
        return string.Create(CultureInfo.InvariantCulture,
            $"edgelam-base;code={CodeVersion};image={config.ImageSize};patch={config.PatchSize};channels={config.Channels};dim={config.ModelDim};layers={config.Layers};heads={config.Heads};mlp={config.MlpDim};classes={config.Classes};seed={seed};{budget.CanonicalText()}");
    }

    public static string ContentHashOf(string contentKey) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(contentKey)));

    /// <summary>The cache file for a content hash.</summary>
    public static string FilePathOf(string cacheDirectory, string contentHash) =>
        Path.Combine(cacheDirectory, $"tinyvit-base-{contentHash[..16]}.ckpt");

    /// <summary>
    /// Loads the cached checkpoint for (config, seed, budget) from <paramref name="cacheDirectory"/>, or pretrains
    /// it on the public slice of <paramref name="data"/> (default: Fashion-MNIST from its default folder) and
    /// caches it. A cache file that fails verification is reported through <paramref name="log"/> and replaced.
    /// </summary>
    public static BaseCheckpoint LoadOrTrain(
        TinyVitConfig config, int seed, string cacheDirectory, PretrainingBudget? budget = null,
        FashionMnistData? data = null, Action<string>? log = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentException.ThrowIfNullOrEmpty(cacheDirectory);
        config.Validate();
        budget ??= PretrainingBudget.Default;
        budget.Validate();
        string key = ContentKeyOf(config, seed, budget);
        string hash = ContentHashOf(key);
        string path = FilePathOf(cacheDirectory, hash);
        if (File.Exists(path))
        {
            try
            {
                return CheckpointFile.Read(path, key, hash, config);
            }
            catch (InvalidDataException exception)
            {
                log?.Invoke($"Discarding base checkpoint cache: {exception.Message}");
            }
        }

        data ??= FashionMnist.Load();
        (double accuracy, TrainingResult training, TinyVitWeights weights) = Pretrain(config, seed, budget, data, log, cancellationToken);
        var checkpoint = new BaseCheckpoint(weights, key, hash, accuracy, training.SamplesPerSecond, training.Elapsed.TotalSeconds, path, loadedFromCache: false);
        Directory.CreateDirectory(cacheDirectory);
        CheckpointFile.Write(checkpoint);
        return checkpoint;
    }

    /// <summary>Reads and verifies a checkpoint file; any defect is an <see cref="InvalidDataException"/> naming the file.</summary>
    public static BaseCheckpoint Load(string path, TinyVitConfig config, int seed, PretrainingBudget budget)
    {
        string key = ContentKeyOf(config, seed, budget);
        return CheckpointFile.Read(path, key, ContentHashOf(key), config);
    }

    private static (double Accuracy, TrainingResult Training, TinyVitWeights Weights) Pretrain(
        TinyVitConfig config, int seed, PretrainingBudget budget, FashionMnistData data, Action<string>? log, CancellationToken cancellationToken)
    {
        (int[] publicIndices, _) = DirichletPartitioner.SelectPublicSlice(data.Train, budget.PublicImages, seed);
        Dataset publicSlice = data.Train.Subset(publicIndices);
        var model = TinyVitModel.CreateRandom(config, seed);
        var options = new TrainingOptions
        {
            Epochs = budget.Epochs,
            BatchSize = budget.BatchSize,
            LearningRate = budget.LearningRate,
            WeightDecay = budget.WeightDecay,
            Seed = seed,
        };
        log?.Invoke($"Pretraining base model on {publicSlice.Count} public images for {budget.Epochs} epochs");
        TrainingResult training = Trainer.Train(model, publicSlice, options, TrainingMode.Full, cancellationToken);
        Dataset test = budget.EvaluationImages is int count ? data.Test.Take(count) : data.Test;
        double accuracy = model.Evaluate(test);
        log?.Invoke(string.Create(CultureInfo.InvariantCulture,
            $"Base model: test accuracy {accuracy:P2} on {test.Count} images, {training.SamplesPerSecond:F0} training samples/s, {training.Elapsed.TotalSeconds:F1} s"));
        return (accuracy, training, model.Weights);
    }

    /// <summary>
    /// File layout (little-endian): magic "ELBC", format version, content hash (32 bytes), content key,
    /// test accuracy, samples/s, training seconds, tensor count, then per tensor name, rank, dims, float32 values;
    /// last, SHA-256 of everything before it.
    /// </summary>
    private static class CheckpointFile
    {
        private const int FormatVersion = 1;
        private static readonly byte[] Magic = "ELBC"u8.ToArray();

        public static void Write(BaseCheckpoint checkpoint)
        {
            using var content = new MemoryStream();
            using (var writer = new BinaryWriter(content, Encoding.UTF8, leaveOpen: true))
            {
                writer.Write(Magic);
                writer.Write(FormatVersion);
                writer.Write(Convert.FromHexString(checkpoint.ContentHash));
                writer.Write(checkpoint.ContentKey);
                writer.Write(checkpoint.TestAccuracy);
                writer.Write(checkpoint.TrainingSamplesPerSecond);
                writer.Write(checkpoint.TrainingSeconds);
                var tensors = checkpoint.Weights.Tensors().ToArray();
                writer.Write(tensors.Length);
                foreach ((string name, int[] shape, float[] values) in tensors)
                {
                    writer.Write(name);
                    writer.Write(shape.Length);
                    foreach (int dimension in shape)
                        writer.Write(dimension);
                    foreach (float value in values)
                        writer.Write(value);
                }
            }
            byte[] body = content.ToArray();
            string temporary = checkpoint.FilePath + $".{Environment.ProcessId}.tmp";
            using (FileStream file = File.Create(temporary))
            {
                file.Write(body);
                file.Write(SHA256.HashData(body));
            }
            File.Move(temporary, checkpoint.FilePath, overwrite: true);
        }

        public static BaseCheckpoint Read(string path, string expectedKey, string expectedHash, TinyVitConfig config)
        {
            byte[] bytes = File.ReadAllBytes(path);
            if (bytes.Length < Magic.Length + 4 + 32 + 32)
                throw Invalid(path, $"only {bytes.Length} bytes");
            ReadOnlySpan<byte> body = bytes.AsSpan(0, bytes.Length - 32);
            if (!SHA256.HashData(body).AsSpan().SequenceEqual(bytes.AsSpan(bytes.Length - 32)))
                throw Invalid(path, "checksum mismatch (file truncated or modified)");
            using var reader = new BinaryReader(new MemoryStream(bytes, 0, body.Length), Encoding.UTF8);
            try
            {
                if (!reader.ReadBytes(Magic.Length).AsSpan().SequenceEqual(Magic))
                    throw Invalid(path, "not a base checkpoint (bad magic)");
                int version = reader.ReadInt32();
                if (version != FormatVersion)
                    throw Invalid(path, $"format version {version}, expected {FormatVersion}");
                string hash = Convert.ToHexStringLower(reader.ReadBytes(32));
                string key = reader.ReadString();
                if (hash != expectedHash || key != expectedKey || ContentHashOf(key) != hash)
                    throw Invalid(path, $"content hash {hash[..16]} does not match the requested {expectedHash[..16]} ({expectedKey})");
                double accuracy = reader.ReadDouble();
                double samplesPerSecond = reader.ReadDouble();
                double seconds = reader.ReadDouble();
                var weights = new TinyVitWeights(config);
                var tensors = weights.Tensors().ToArray();
                int count = reader.ReadInt32();
                if (count != tensors.Length)
                    throw Invalid(path, $"{count} tensors, the configuration has {tensors.Length}");
                foreach ((string name, int[] shape, float[] values) in tensors)
                {
                    string storedName = reader.ReadString();
                    int[] storedShape = new int[reader.ReadInt32()];
                    for (int d = 0; d < storedShape.Length; d++)
                        storedShape[d] = reader.ReadInt32();
                    if (storedName != name || !storedShape.SequenceEqual(shape))
                        throw Invalid(path, $"tensor '{storedName}' [{string.Join(",", storedShape)}] where '{name}' [{string.Join(",", shape)}] was expected");
                    for (int i = 0; i < values.Length; i++)
                        values[i] = reader.ReadSingle();
                }
                if (reader.BaseStream.Position != body.Length)
                    throw Invalid(path, "trailing bytes after the last tensor");
                return new BaseCheckpoint(weights, key, hash, accuracy, samplesPerSecond, seconds, path, loadedFromCache: true);
            }
            catch (EndOfStreamException exception)
            {
                throw new InvalidDataException($"Base checkpoint '{path}': ends early.", exception);
            }
        }

        private static InvalidDataException Invalid(string path, string problem) => new($"Base checkpoint '{path}': {problem}.");
    }
}
