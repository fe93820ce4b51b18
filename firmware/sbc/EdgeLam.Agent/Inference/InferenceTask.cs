using EdgeLam.Agent.Fleet;
using EdgeLam.Contracts.Messages;
using EdgeLam.Contracts.Wire;
using EdgeLam.Model.Architecture;
using EdgeLam.Model.Onnx;

namespace EdgeLam.Agent.Inference;

/// <summary>An inference request waiting in the device queue.</summary>
/// <param name="Request">The decoded request bundle.</param>
/// <param name="ResponseTopic">MQTT 5 response topic of the request, if any.</param>
/// <param name="CorrelationData">MQTT 5 correlation data of the request, if any.</param>
/// <param name="EnqueuedTimestamp">Stopwatch timestamp when it entered the queue.</param>
public sealed record InferenceTask(MessageBundle<InferenceRequestHeader> Request, string? ResponseTopic, byte[]? CorrelationData, long EnqueuedTimestamp);

/// <summary>Runs one stage task on a loaded variant and builds the result bundle.</summary>
public static class StageExecutor
{
    /// <summary>
    /// The result of <paramref name="task"/>: ok with the output frame, failed with a reason, or deadline-missed.
    /// With <paramref name="pacing"/>, compute is stretched to the board's modelled time for the stage.
    /// </summary>
    public static async Task<MessageBundle<InferenceResultHeader>> RunAsync(
        InferenceTask task, VariantHost variants, (TinyVitConfig Config, Func<Precision, double> MacsPerSecond)? pacing,
        double queueWaitMilliseconds, int queueLength, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(task);
        ArgumentNullException.ThrowIfNull(variants);
        InferenceRequestHeader request = task.Request.Header;
        if (now.ToUnixTimeMilliseconds() > request.DeadlineUnixMilliseconds)
            return Result(request, InferenceOutcome.DeadlineMissed, null, 0, queueWaitMilliseconds, queueLength, null);

        LoadedVariant? variant = variants.Find(request.VariantId);
        if (variant is null)
            return Failed(request, $"variant {request.VariantId} is not deployed on this device", queueWaitMilliseconds, queueLength);
        if (variant.StageId != request.StageId)
            return Failed(request, $"variant {request.VariantId} serves stage {variant.StageId}, not {request.StageId}", queueWaitMilliseconds, queueLength);

        TensorFrame input = task.Request.Bundle.GetRequired(InferenceRequestHeader.InputFrameName);
        long start = System.Diagnostics.Stopwatch.GetTimestamp();
        float[] output;
        long[] shape;
        try
        {
            (output, shape) = variant.Session.Run(input.Dequantize(), input.Shape.Select(dimension => (long)dimension).ToArray());
        }
        catch (Exception exception) when (exception is ArgumentException or Microsoft.ML.OnnxRuntime.OnnxRuntimeException)
        {
            return Failed(request, $"stage run failed: {exception.Message.Split('\n')[0]}", queueWaitMilliseconds, queueLength);
        }

        TimeSpan elapsed = System.Diagnostics.Stopwatch.GetElapsedTime(start);
        if (pacing is { } paced && TryParseStage(request.StageId, paced.Config, out ModelStage stage))
        {
            long macs = ComputeCost.StageMacsPerImage(paced.Config, stage) * Math.Max(1, input.Shape[0]);
            elapsed += await ThroughputPacer.PaceAsync(macs, paced.MacsPerSecond(variant.Precision), elapsed, cancellationToken).ConfigureAwait(false);
        }

        TensorFrame frame = TensorFrame.FromFloats(output, shape.Select(dimension => (int)dimension).ToArray());
        return Result(request, InferenceOutcome.Ok, null, elapsed.TotalMilliseconds, queueWaitMilliseconds, queueLength, frame);
    }

    private static bool TryParseStage(string stageId, TinyVitConfig config, out ModelStage stage)
    {
        try
        {
            stage = ModelStage.Parse(stageId, config);
            return true;
        }
        catch (ArgumentException)
        {
            stage = default;
            return false;
        }
    }

    private static MessageBundle<InferenceResultHeader> Failed(InferenceRequestHeader request, string error, double queueWaitMilliseconds, int queueLength) =>
        Result(request, InferenceOutcome.Failed, error, 0, queueWaitMilliseconds, queueLength, null);

    private static MessageBundle<InferenceResultHeader> Result(
        InferenceRequestHeader request, InferenceOutcome outcome, string? error, double computeMilliseconds, double queueWaitMilliseconds, int queueLength, TensorFrame? output)
    {
        var header = new InferenceResultHeader
        {
            CorrelationId = request.CorrelationId,
            StageId = request.StageId,
            VariantId = request.VariantId,
            Outcome = outcome,
            Error = error,
            ComputeMilliseconds = computeMilliseconds,
            QueueWaitMilliseconds = Math.Max(0, queueWaitMilliseconds),
            QueueLength = Math.Clamp(queueLength, 0, 100_000),
        };
        var frames = output is null ? [] : new[] { new KeyValuePair<string, TensorFrame>(InferenceResultHeader.OutputFrameName, output) };
        return MessageBundle<InferenceResultHeader>.Create(header, frames);
    }
}
