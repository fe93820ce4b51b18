using System.Collections.Concurrent;
using EdgeLam.Firmware.Application;
using EdgeLam.Firmware.Training;
using EdgeLam.Model.Architecture;
using EdgeLam.Model.Data;

namespace EdgeLam.Firmware.Emulator.Hosting;

/// <summary>
/// The emulated device's frozen model and data: the base checkpoint's weights and the Fashion-MNIST training set.
/// For an assignment it takes the device's Dirichlet shard and runs the frozen float forward once to the adapted
/// projection (fc2 of the last block), so the firmware trainer sees exactly what the frozen layers produce.
/// </summary>
public sealed class ModelTrainingHost : ITrainingHost
{
    private readonly TinyVitWeights _weights;
    private readonly Dataset _train;
    private readonly int _publicCount;
    private readonly int _publicSeed;
    private readonly int _maximumShardImages;
    private readonly ConcurrentDictionary<(long, int, int, double), ITrainingShard> _shards = new();

    public ModelTrainingHost(TinyVitWeights weights, string baseModelId, Dataset train, int publicCount, int publicSeed, int maximumShardImages)
    {
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(train);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maximumShardImages);
        _weights = weights;
        _train = train;
        _publicCount = publicCount;
        _publicSeed = publicSeed;
        _maximumShardImages = maximumShardImages;
        BaseModelId = baseModelId;
        var head = weights.Head;
        Head = new FrozenHead(weights.Config.ModelDim, weights.Config.Classes, weights.FinalNorm.Gamma, weights.FinalNorm.Beta, head.W, head.B);
    }

    public string BaseModelId { get; }
    public int LayerCount => _weights.Config.Layers;
    public int Tokens => _weights.Config.Tokens;
    public int ProjectionIn => _weights.Config.MlpDim;
    public FrozenHead Head { get; }

    public ITrainingShard ShardFor(TrainingAssignment assignment)
    {
        ArgumentNullException.ThrowIfNull(assignment);
        return _shards.GetOrAdd((assignment.PartitionSeed, assignment.PartitionCount, assignment.PartitionIndex, assignment.DirichletAlpha), _ =>
        {
            var partition = DirichletPartitioner.Partition(_train, new DirichletPartitionOptions(
                assignment.PartitionCount, assignment.DirichletAlpha, unchecked((int)assignment.PartitionSeed), _publicCount, _publicSeed));
            var indices = partition.DeviceIndices[assignment.PartitionIndex];
            return FrozenActivationShard.Compute(_weights, _train.Subset(indices.Take(_maximumShardImages).ToArray()));
        });
    }
}

/// <summary>A shard whose fc2 inputs and frozen block outputs were computed once by the float reference forward.</summary>
public sealed class FrozenActivationShard : ITrainingShard
{
    private readonly float[] _hidden;
    private readonly float[] _frozenOutput;
    private readonly byte[] _labels;
    private readonly int _hiddenLength;
    private readonly int _outputLength;

    private FrozenActivationShard(float[] hidden, float[] frozenOutput, byte[] labels, int hiddenLength, int outputLength)
    {
        _hidden = hidden;
        _frozenOutput = frozenOutput;
        _labels = labels;
        _hiddenLength = hiddenLength;
        _outputLength = outputLength;
    }

    public int Count => _labels.Length;

    public int LabelOf(int index) => _labels[index];

    public void ActivationsOf(int index, float[] hidden, float[] frozenOutput)
    {
        Array.Copy(_hidden, index * _hiddenLength, hidden, 0, _hiddenLength);
        Array.Copy(_frozenOutput, index * _outputLength, frozenOutput, 0, _outputLength);
    }

    public static FrozenActivationShard Compute(TinyVitWeights weights, Dataset data)
    {
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(data);
        var config = weights.Config;
        var model = new TinyVitModel(weights);
        int hiddenLength = config.Tokens * config.MlpDim, outputLength = config.Tokens * config.ModelDim;
        var hidden = new float[data.Count * hiddenLength];
        var output = new float[data.Count * outputLength];
        const int group = 64;
        var activations = model.NewActivations(group);
        for (int start = 0; start < data.Count; start += group)
        {
            int count = Math.Min(group, data.Count - start);
            model.ForwardGroup(data.ScaledPixels(start, count), count, activations);
            Array.Copy(activations.Blocks[config.Layers - 1].GeluOutput, 0, hidden, start * hiddenLength, count * hiddenLength);
            Array.Copy(activations.BlockInputs[config.Layers], 0, output, start * outputLength, count * outputLength);
        }

        return new FrozenActivationShard(hidden, output, data.Labels.ToArray(), hiddenLength, outputLength);
    }
}
