using System.Diagnostics;
using System.Security.Cryptography;
using EdgeLam.Agent.Fleet;
using EdgeLam.Boards;
using EdgeLam.Contracts.Messages;
using EdgeLam.Contracts.Wire;
using EdgeLam.Model.Architecture;
using EdgeLam.Model.Data;
using EdgeLam.Model.Lora;
using EdgeLam.Model.Training;

namespace EdgeLam.Agent.Training;

/// <summary>What one local training round produced.</summary>
/// <param name="Update">The update bundle to upload.</param>
/// <param name="InitialLoss">Loss of the first step (the starting adapter on the first batch).</param>
/// <param name="ComputeTime">Wall time of the training on this machine.</param>
/// <param name="ModelledTime">MACs / board throughput when paced; null when not paced.</param>
public sealed record LoraRoundResult(MessageBundle<LoraUpdateHeader> Update, double InitialLoss, TimeSpan ComputeTime, TimeSpan? ModelledTime);

/// <summary>
/// One round of local LoRA training (the FedFT-H client step): start from the global adapter the gateway sent
/// (or A random and B zero, so the first round starts exactly at the base model; Hu et al. 2021, §4.1), adapting the
/// projections it carries, train only the adapters on the device's shard with the base frozen, and package the factors at the assigned precision.
/// </summary>
public static class LoraTrainingJob
{
    /// <summary>Why <paramref name="assignment"/> cannot run on <paramref name="board"/> with <paramref name="config"/>; null when it can.</summary>
    public static string? Refusal(TrainingAssignment assignment, BoardProfile board, TinyVitConfig config)
    {
        ArgumentNullException.ThrowIfNull(assignment);
        ArgumentNullException.ThrowIfNull(board);
        ArgumentNullException.ThrowIfNull(config);
        int maxRank = board.Adaptation.MaxLoraRank.Value;
        if (assignment.Rank > maxRank)
            return $"rank {assignment.Rank} exceeds the board's maximum LoRA rank {maxRank}";
        int badLayer = assignment.Layers.FirstOrDefault(layer => layer >= config.Layers, -1);
        if (badLayer >= 0)
            return $"layer {badLayer} does not exist; the base model has layers 0..{config.Layers - 1}";
        if (board.Adaptation.MaxAdaptedLayerCount is { } maxLayers && assignment.Layers.Count > maxLayers.Value)
            return $"{assignment.Layers.Count} layers exceed the board's {maxLayers.Value} adaptable layers";
        NumericPrecision precision = PrecisionMapping.ToBoard(assignment.Precision);
        if (!board.Supports(precision))
            return $"precision {WireMessages.EnumName(assignment.Precision)} is not among the board's precisions";
        return null;
    }

    /// <summary>Trains one round; <paramref name="globalAdapter"/> is the latest adapter bundle received, or null.</summary>
    public static async Task<LoraRoundResult> RunAsync(
        TrainingAssignment assignment, BaseModel baseModel, Dataset shard, TensorBundle? globalAdapter, float loraAlpha,
        double? pacedMacsPerSecond, int seed, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(assignment);
        ArgumentNullException.ThrowIfNull(baseModel);
        ArgumentNullException.ThrowIfNull(shard);
        TinyVitConfig config = baseModel.Weights.Config;
        var sent = LoraFrames.AdaptedIn(globalAdapter, assignment.Layers);
        var adapters = sent.Count > 0
            ? new LoraAdapterSet(config, assignment.Rank, loraAlpha, sent)
            : LoraAdapterSet.Create(config, assignment.Rank, loraAlpha, seed, assignment.Layers);
        if (globalAdapter is not null)
            LoraFrames.Import(globalAdapter, adapters);

        var model = new TinyVitModel(baseModel.Weights, adapters);
        var trained = await TrainPacedAsync(model, shard, assignment, TrainingMode.LoraOnly, pacedMacsPerSecond, seed, cancellationToken).ConfigureAwait(false);
        var frames = LoraFrames.ToFrames(adapters, assignment.Precision);
        return Package(assignment, baseModel, trained, null, assignment.Rank, frames);
    }

    /// <summary>What local training did: its result, the wall time here and, when paced, the modelled time on the board.</summary>
    internal sealed record PacedTraining(TrainingResult Result, TimeSpan ComputeTime, TimeSpan? ModelledTime);

    /// <summary>Runs the assignment's local round on <paramref name="model"/> and, when paced, waits out the board's modelled time.</summary>
    internal static async Task<PacedTraining> TrainPacedAsync(
        TinyVitModel model, Dataset shard, TrainingAssignment assignment, TrainingMode mode, double? pacedMacsPerSecond, int seed, CancellationToken cancellationToken)
    {
        var options = TrainingOptions.ForLocalRound(assignment.LocalSteps, assignment.BatchSize, assignment.LearningRate, shard.Count, seed);
        var stopwatch = Stopwatch.StartNew();
        TrainingResult result = await Task.Run(() => Trainer.Train(model, shard, options, mode, cancellationToken), cancellationToken).ConfigureAwait(false);
        stopwatch.Stop();
        TimeSpan? modelled = null;
        if (pacedMacsPerSecond is { } macsPerSecond)
        {
            long macs = result.Samples * ComputeCost.TrainingMacsPerImage(model.Config);
            modelled = ThroughputPacer.ModelledTime(macs, macsPerSecond);
            await ThroughputPacer.PaceAsync(macs, macsPerSecond, stopwatch.Elapsed, cancellationToken).ConfigureAwait(false);
        }

        return new PacedTraining(result, stopwatch.Elapsed, modelled);
    }

    /// <summary>The update bundle of a trained round: header from the assignment and the result, then the frames.</summary>
    internal static LoraRoundResult Package(
        TrainingAssignment assignment, BaseModel baseModel, PacedTraining trained, TrainingScope? mode, int rank, List<KeyValuePair<string, TensorFrame>> frames)
    {
        var header = new LoraUpdateHeader
        {
            Mode = mode,
            Round = assignment.Round,
            Rank = rank,
            Layers = assignment.Layers.ToArray(),
            Precision = assignment.Precision,
            SampleCount = (int)Math.Clamp(trained.Result.Samples, 1, 10_000_000),
            LocalSteps = trained.Result.Steps,
            TrainingLoss = TailMean(trained.Result.LossHistory),
            BaseModelId = baseModel.Id,
            Nonce = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16)),
        };
        var update = MessageBundle<LoraUpdateHeader>.Create(header, frames);
        return new LoraRoundResult(update, trained.Result.LossHistory[0], trained.ComputeTime, trained.ModelledTime);
    }

    /// <summary>Mean loss over the last quarter of the steps (at least one, at most ten), the figure the header reports.</summary>
    public static double TailMean(IReadOnlyList<double> losses)
    {
        ArgumentNullException.ThrowIfNull(losses);
        int count = Math.Clamp(losses.Count / 4, 1, 10);
        return losses.Skip(losses.Count - count).Average();
    }
}

/// <summary>Maps contract precisions onto board profile precisions.</summary>
public static class PrecisionMapping
{
    /// <summary>The board precision a contract precision needs (pruned INT8 runs on INT8 hardware).</summary>
    public static NumericPrecision ToBoard(Precision precision) => precision switch
    {
        Precision.Fp32 => NumericPrecision.Fp32,
        Precision.Fp16 => NumericPrecision.Fp16,
        Precision.Int8 or Precision.PrunedInt8 => NumericPrecision.Int8,
        _ => throw new ArgumentOutOfRangeException(nameof(precision), precision, "Unknown precision."),
    };

    /// <summary>The contract precisions a board can run: its own, plus pruned INT8 where it runs INT8.</summary>
    public static IReadOnlyList<Precision> ToContract(IEnumerable<NumericPrecision> precisions)
    {
        ArgumentNullException.ThrowIfNull(precisions);
        var result = new List<Precision>();
        foreach (NumericPrecision precision in precisions)
        {
            result.Add(precision switch
            {
                NumericPrecision.Fp32 => Precision.Fp32,
                NumericPrecision.Fp16 => Precision.Fp16,
                _ => Precision.Int8,
            });
        }

        if (result.Contains(Precision.Int8)) result.Add(Precision.PrunedInt8);
        return result.Distinct().ToArray();
    }
}
