using EdgeLam.Boards;
using EdgeLam.Contracts.Messages;
using EdgeLam.Contracts.Wire;
using EdgeLam.Model.Architecture;
using EdgeLam.Model.Data;
using EdgeLam.Model.Training;

namespace EdgeLam.Agent.Training;

/// <summary>
/// One round of local full-model training (the FedAvg client step, McMahan et al. 2017): start from the global
/// weights the gateway sent (or from the base checkpoint in round 1), train every weight on the device's shard,
/// and upload all of them as "weights.{tensor}" frames in FP32 or FP16.
/// </summary>
public static class FullTrainingJob
{
    /// <summary>Bytes of training state per weight: the FP32 value, its gradient and AdamW's two moments.</summary>
    public const int TrainingBytesPerParameter = 16;

    /// <summary>Why a full-model <paramref name="assignment"/> cannot run on <paramref name="board"/>; null when it can.</summary>
    public static string? Refusal(TrainingAssignment assignment, BoardProfile board, TinyVitConfig config)
    {
        ArgumentNullException.ThrowIfNull(assignment);
        ArgumentNullException.ThrowIfNull(board);
        ArgumentNullException.ThrowIfNull(config);
        NumericPrecision precision = PrecisionMapping.ToBoard(assignment.Precision);
        if (!board.Supports(precision))
            return $"precision {WireMessages.EnumName(assignment.Precision)} is not among the board's precisions";
        long needed = (long)new TinyVitWeights(config).ParameterCount * TrainingBytesPerParameter;
        long budget = board.Memory.ModelBudgetBytes.Value;
        return needed > budget
            ? $"training all weights needs {needed} bytes of state, the board's model budget is {budget} bytes"
            : null;
    }

    /// <summary>Trains one round; <paramref name="globalWeights"/> is the latest full-mode bundle received, or null.</summary>
    public static async Task<LoraRoundResult> RunAsync(
        TrainingAssignment assignment, BaseModel baseModel, Dataset shard, TensorBundle? globalWeights,
        double? pacedMacsPerSecond, int seed, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(assignment);
        ArgumentNullException.ThrowIfNull(baseModel);
        ArgumentNullException.ThrowIfNull(shard);
        TinyVitWeights weights = baseModel.Weights.Clone();
        if (globalWeights is not null)
            Import(globalWeights, weights);

        var model = new TinyVitModel(weights);
        var trained = await LoraTrainingJob.TrainPacedAsync(model, shard, assignment, TrainingMode.Full, pacedMacsPerSecond, seed, cancellationToken).ConfigureAwait(false);
        var type = assignment.Precision == Precision.Fp16 ? TensorDataType.Float16 : TensorDataType.Float32;
        var frames = weights.Tensors()
            .Select(t => new KeyValuePair<string, TensorFrame>(FullWeightFrameName.Of(t.Name), TensorFrame.FromFloats(t.Values, t.Shape, type)))
            .ToList();
        return LoraTrainingJob.Package(assignment, baseModel, trained, TrainingScope.Full, 0, frames);
    }

    /// <summary>Copies every "weights.{tensor}" frame into the same-named tensor; a missing or misshapen tensor is refused.</summary>
    public static void Import(TensorBundle bundle, TinyVitWeights weights)
    {
        ArgumentNullException.ThrowIfNull(bundle);
        ArgumentNullException.ThrowIfNull(weights);
        foreach ((string name, int[] shape, float[] values) in weights.Tensors())
        {
            string frameName = FullWeightFrameName.Of(name);
            TensorFrame frame = bundle.Find(frameName)
                ?? throw new WireFormatException(WireErrorCode.MissingField, frameName, "the global weights lack this tensor of the model");
            if (frame.ElementCount != values.Length)
                throw new WireFormatException(WireErrorCode.Inconsistent, frameName, $"shape {TensorFrame.ShapeText(frame.Shape)}, expected {TensorFrame.ShapeText(shape)}");
            frame.Dequantize().CopyTo(values, 0);
        }
    }
}
