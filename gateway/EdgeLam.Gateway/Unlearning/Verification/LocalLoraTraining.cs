using EdgeLam.Gateway.Training;
using EdgeLam.Model.Architecture;
using EdgeLam.Model.Data;
using EdgeLam.Model.Lora;
using EdgeLam.Model.Training;

namespace EdgeLam.Gateway.Unlearning.Verification;

/// <summary>
/// A device's round in-process: the model core's LoRA-only <see cref="Trainer"/> on the device's shard,
/// starting from the adapters the strategy assigned, with the settings the device agent uses
/// (constant learning rate, no warmup, no weight decay). Replies carry the samples processed, as agents report.
/// </summary>
public static class LocalLoraTraining
{
    public static TrainingReply Train(TinyVitWeights baseWeights, Dataset shard, TrainingInstruction instruction, int seed, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(baseWeights);
        ArgumentNullException.ThrowIfNull(shard);
        ArgumentNullException.ThrowIfNull(instruction);
        var config = baseWeights.Config;
        var targets = instruction.StartFrom.Adapters.Keys
            .Select(name => ProjectionNames.TryParse(name, out var layer, out var kind) ? new LoraTarget(layer, kind)
                : throw new ArgumentException($"Start adapter {name} names no projection.", nameof(instruction)))
            .ToArray();
        var adapters = new LoraAdapterSet(config, instruction.Rank, instruction.LoraAlpha, targets);
        foreach (var adapter in adapters.Adapters)
        {
            var start = instruction.StartFrom.Adapters[ProjectionNames.Of(adapter.Layer, adapter.Projection)];
            if (start.Rank != adapter.Rank || start.InFeatures != adapter.In || start.OutFeatures != adapter.Out)
                throw new ArgumentException($"Start adapter {adapter.NameA} has rank {start.Rank} {start.OutFeatures}x{start.InFeatures}; the device trains rank {adapter.Rank} {adapter.Out}x{adapter.In}.", nameof(instruction));
            // The strategy's start factors carry scale alpha/r, the scaling the device's adapter applies.
            start.A.CopyTo(adapter.A, 0);
            start.B.CopyTo(adapter.B, 0);
        }

        var model = new TinyVitModel(baseWeights, adapters);
        var options = TrainingOptions.ForLocalRound(instruction.LocalSteps, instruction.BatchSize, instruction.LearningRate, shard.Count, seed);
        var result = Trainer.Train(model, shard, options, TrainingMode.LoraOnly, cancellationToken);
        var trained = adapters.Adapters.ToDictionary(
            a => ProjectionNames.Of(a.Layer, a.Projection),
            a => new LoraFactors(a.Rank, a.In, a.Out, (float[])a.A.Clone(), (float[])a.B.Clone(), a.Scaling),
            StringComparer.Ordinal);
        return new TrainingReply(instruction.DeviceId, (int)Math.Min(result.Samples, int.MaxValue), ModelParameters.FromAdapters(trained), 0);
    }
}
