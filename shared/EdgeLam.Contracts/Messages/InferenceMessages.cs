using EdgeLam.Contracts.Wire;

namespace EdgeLam.Contracts.Messages;

/// <summary>
/// JSON header of the bundle on edgelam/v1/devices/{id}/infer/request: run one stage on the frame "input".
/// MQTT 3.1.1 devices answer on their own infer/result topic with the same correlation id; MQTT 5 agents answer
/// on the request's response topic with its correlation data, and still copy the correlation id into the result.
/// </summary>
public sealed record InferenceRequestHeader : IWireMessage
{
    /// <summary>Name of the bundle frame holding the stage input.</summary>
    public const string InputFrameName = "input";

    /// <summary>Ties the result to this request, 1..64 characters of [A-Za-z0-9._-].</summary>
    public required string CorrelationId { get; init; }

    /// <summary>Stage to run (e.g. "embed", "block0", "head").</summary>
    public required string StageId { get; init; }

    /// <summary>Deployed variant of the stage to use.</summary>
    public required string VariantId { get; init; }

    /// <summary>Drop the task if it cannot start before this instant (Unix milliseconds, UTC).</summary>
    public required long DeadlineUnixMilliseconds { get; init; }

    /// <inheritdoc/>
    public void Validate()
    {
        MessageRules.Identifier(CorrelationId, "correlationId");
        MessageRules.Identifier(StageId, "stageId");
        MessageRules.Identifier(VariantId, "variantId");
        MessageRules.Range(DeadlineUnixMilliseconds, 1, long.MaxValue, "deadlineUnixMilliseconds");
    }
}

/// <summary>JSON header of the bundle on edgelam/v1/devices/{id}/infer/result: outcome of a stage task; frame "output" when ok.</summary>
public sealed record InferenceResultHeader : IWireMessage
{
    /// <summary>Name of the bundle frame holding the stage output.</summary>
    public const string OutputFrameName = "output";

    /// <summary>Correlation id of the request.</summary>
    public required string CorrelationId { get; init; }

    /// <summary>Stage that ran.</summary>
    public required string StageId { get; init; }

    /// <summary>Variant that ran.</summary>
    public required string VariantId { get; init; }

    /// <summary>ok, failed or deadline-missed.</summary>
    public required InferenceOutcome Outcome { get; init; }

    /// <summary>Why it failed; present exactly when the outcome is failed.</summary>
    public string? Error { get; init; }

    /// <summary>Time spent computing the stage, milliseconds.</summary>
    public required double ComputeMilliseconds { get; init; }

    /// <summary>Time the task waited in the device queue, milliseconds.</summary>
    public required double QueueWaitMilliseconds { get; init; }

    /// <summary>Tasks left in the queue after this one.</summary>
    public required int QueueLength { get; init; }

    /// <inheritdoc/>
    public void Validate()
    {
        MessageRules.Identifier(CorrelationId, "correlationId");
        MessageRules.Identifier(StageId, "stageId");
        MessageRules.Identifier(VariantId, "variantId");
        MessageRules.Defined(Outcome, "outcome");
        MessageRules.OptionalText(Error, MessageRules.MaxTextLength, "error");
        if ((Outcome == InferenceOutcome.Failed) != (Error is not null))
        {
            throw new WireFormatException(WireErrorCode.Inconsistent, "error", "error is required exactly when the outcome is failed");
        }

        MessageRules.Range(ComputeMilliseconds, 0, 86_400_000, "computeMilliseconds");
        MessageRules.Range(QueueWaitMilliseconds, 0, 86_400_000, "queueWaitMilliseconds");
        MessageRules.Range(QueueLength, 0, 100_000, "queueLength");
    }
}
