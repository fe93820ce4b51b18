using EdgeLam.Contracts.Wire;

namespace EdgeLam.Contracts.Messages;

/// <summary>edgelam/v1/devices/{id}/rejected: why the gateway refused one of that device's messages.</summary>
public sealed record Rejection : IWireMessage
{
    /// <summary>Topic of the refused message.</summary>
    public required string RejectedTopic { get; init; }

    /// <summary>Category of the refusal.</summary>
    public required RejectionReason Reason { get; init; }

    /// <summary>Wire error code name (WireErrorCode) when the reason is malformed; otherwise absent.</summary>
    public string? ErrorCode { get; init; }

    /// <summary>Human-readable detail naming the field or rule, 1..512 characters.</summary>
    public required string Detail { get; init; }

    /// <summary>Round concerned, for training messages.</summary>
    public int? Round { get; init; }

    /// <summary>Correlation id concerned, for inference messages.</summary>
    public string? CorrelationId { get; init; }

    /// <inheritdoc/>
    public void Validate()
    {
        MessageRules.Text(RejectedTopic, 256, "rejectedTopic");
        if (!RejectedTopic.StartsWith(Topics.Root, StringComparison.Ordinal))
        {
            throw new WireFormatException(WireErrorCode.OutOfRange, "rejectedTopic", "not a topic of this contract");
        }

        MessageRules.Defined(Reason, "reason");
        MessageRules.OptionalText(ErrorCode, 32, "errorCode");
        if ((Reason == RejectionReason.Malformed) != (ErrorCode is not null))
        {
            throw new WireFormatException(WireErrorCode.Inconsistent, "errorCode", "errorCode is required exactly when the reason is malformed");
        }

        MessageRules.Text(Detail, MessageRules.MaxTextLength, "detail");
        if (Round is { } round)
        {
            MessageRules.Range(round, 0, MessageRules.MaxRound, "round");
        }

        if (CorrelationId is not null)
        {
            MessageRules.Identifier(CorrelationId, "correlationId");
        }
    }
}

/// <summary>edgelam/v1/gateway/status (retained): gateway presence; "offline" is its last will.</summary>
public sealed record GatewayStatus : IWireMessage
{
    /// <summary>online or offline.</summary>
    public required PresenceState State { get; init; }

    /// <summary>Gateway version, 1..32 characters.</summary>
    public required string Version { get; init; }

    /// <summary>When this gateway process started (Unix milliseconds, UTC).</summary>
    public required long StartedUnixMilliseconds { get; init; }

    /// <summary>Devices currently online in the registry.</summary>
    public required int DeviceCount { get; init; }

    /// <summary>Latest training round (0 before the first).</summary>
    public required int Round { get; init; }

    /// <inheritdoc/>
    public void Validate()
    {
        MessageRules.Defined(State, "state");
        MessageRules.Text(Version, 32, "version");
        MessageRules.Range(StartedUnixMilliseconds, 1, long.MaxValue, "startedUnixMilliseconds");
        MessageRules.Range(DeviceCount, 0, 1_000_000, "deviceCount");
        MessageRules.Range(Round, 0, MessageRules.MaxRound, "round");
    }
}

/// <summary>edgelam/v1/gateway/events: one thing that happened, for operators and dashboards.</summary>
public sealed record GatewayEvent : IWireMessage
{
    /// <summary>What happened.</summary>
    public required GatewayEventKind Kind { get; init; }

    /// <summary>When (Unix milliseconds, UTC).</summary>
    public required long TimestampUnixMilliseconds { get; init; }

    /// <summary>Device concerned, if any.</summary>
    public string? DeviceId { get; init; }

    /// <summary>Round concerned, if any.</summary>
    public int? Round { get; init; }

    /// <summary>Human-readable detail, 1..512 characters, optional.</summary>
    public string? Detail { get; init; }

    /// <inheritdoc/>
    public void Validate()
    {
        MessageRules.Defined(Kind, "kind");
        MessageRules.Range(TimestampUnixMilliseconds, 1, long.MaxValue, "timestampUnixMilliseconds");
        if (DeviceId is not null)
        {
            MessageRules.DeviceId(DeviceId, "deviceId");
        }

        if (Round is { } round)
        {
            MessageRules.Range(round, 0, MessageRules.MaxRound, "round");
        }

        MessageRules.OptionalText(Detail, MessageRules.MaxTextLength, "detail");
    }
}

/// <summary>
/// edgelam/v1/gateway/command: an operator command, authenticated by an HMAC-SHA256 signature
/// (<see cref="OperatorCommandSignature"/>) on top of the broker's credentials and ACL.
/// </summary>
public sealed record OperatorCommand : IWireMessage
{
    /// <summary>Unique id; the gateway executes each id at most once.</summary>
    public required string CommandId { get; init; }

    /// <summary>What to do.</summary>
    public required OperatorAction Action { get; init; }

    /// <summary>Target device; required for unlearn.</summary>
    public string? DeviceId { get; init; }

    /// <summary>When issued (Unix milliseconds, UTC); stale commands are refused.</summary>
    public required long IssuedUnixMilliseconds { get; init; }

    /// <summary>HMAC-SHA256 over the canonical text, 64 lowercase hex digits.</summary>
    public required string Signature { get; init; }

    /// <inheritdoc/>
    public void Validate()
    {
        MessageRules.Identifier(CommandId, "commandId");
        MessageRules.Defined(Action, "action");
        if (Action == OperatorAction.Unlearn && DeviceId is null)
        {
            throw new WireFormatException(WireErrorCode.MissingField, "deviceId", "required for unlearn");
        }

        if (DeviceId is not null)
        {
            MessageRules.DeviceId(DeviceId, "deviceId");
        }

        MessageRules.Range(IssuedUnixMilliseconds, 1, long.MaxValue, "issuedUnixMilliseconds");
        MessageRules.Sha256Hex(Signature, "signature");
    }
}
