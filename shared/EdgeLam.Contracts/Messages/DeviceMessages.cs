using EdgeLam.Contracts.Wire;

namespace EdgeLam.Contracts.Messages;

/// <summary>edgelam/v1/devices/{id}/hello: what a device can do, from its board profile. Sent after every connect.</summary>
public sealed record DeviceHello : IWireMessage
{
    /// <summary>The only protocol version of this contract.</summary>
    public const int CurrentProtocolVersion = 1;

    /// <summary>Must equal the {id} of the topic.</summary>
    public required string DeviceId { get; init; }

    /// <summary>Board profile id (hardware/boards/{boardId}.json).</summary>
    public required string BoardId { get; init; }

    /// <summary>Tier of the board.</summary>
    public required DeviceTier Tier { get; init; }

    /// <summary>Firmware or agent version, 1..32 characters.</summary>
    public required string FirmwareVersion { get; init; }

    /// <summary>Wire protocol version; 1.</summary>
    public required int ProtocolVersion { get; init; }

    /// <summary>Precisions the device can run, 1..4 distinct.</summary>
    public required IReadOnlyList<Precision> Precisions { get; init; }

    /// <summary>Largest LoRA rank the device trains, 1..64.</summary>
    public required int MaxLoraRank { get; init; }

    /// <summary>RAM available to the model, bytes.</summary>
    public required long MemoryBytes { get; init; }

    /// <summary>Flash or disk available for model variants, bytes.</summary>
    public required long FlashBytes { get; init; }

    /// <summary>Sustained multiply-accumulates per second of the profile (or measured).</summary>
    public required double MacsPerSecond { get; init; }

    /// <summary>Typical power draw under load, watts; absent when unknown.</summary>
    public double? PowerWatts { get; init; }

    /// <inheritdoc/>
    public void Validate()
    {
        MessageRules.DeviceId(DeviceId, "deviceId");
        MessageRules.Identifier(BoardId, "boardId");
        MessageRules.Defined(Tier, "tier");
        MessageRules.Text(FirmwareVersion, 32, "firmwareVersion");
        MessageRules.Range(ProtocolVersion, CurrentProtocolVersion, CurrentProtocolVersion, "protocolVersion");
        if (Precisions is null)
        {
            throw new WireFormatException(WireErrorCode.MissingField, "precisions", "required field is missing");
        }

        MessageRules.Range(Precisions.Count, 1, 4, "precisions.length");
        for (int i = 0; i < Precisions.Count; i++)
        {
            MessageRules.Defined(Precisions[i], $"precisions[{i}]");
            for (int j = 0; j < i; j++)
            {
                if (Precisions[j] == Precisions[i])
                {
                    throw new WireFormatException(WireErrorCode.OutOfRange, $"precisions[{i}]", "precisions must be distinct");
                }
            }
        }

        MessageRules.Range(MaxLoraRank, 1, MessageRules.MaxRank, "maxLoraRank");
        MessageRules.Range(MemoryBytes, 1, 1L << 40, "memoryBytes");
        MessageRules.Range(FlashBytes, 0, 1L << 42, "flashBytes");
        MessageRules.Positive(MacsPerSecond, 0, 1e16, "macsPerSecond");
        if (PowerWatts is { } watts)
        {
            MessageRules.Range(watts, 0, 1000, "powerWatts");
        }
    }
}

/// <summary>edgelam/v1/devices/{id}/status (retained): presence; "offline" is also registered as the MQTT last will.</summary>
public sealed record DeviceStatus : IWireMessage
{
    /// <summary>online or offline.</summary>
    public required PresenceState State { get; init; }

    /// <summary>Why, e.g. "last-will", "shutdown", "restart"; 1..128 characters, optional.</summary>
    public string? Reason { get; init; }

    /// <inheritdoc/>
    public void Validate()
    {
        MessageRules.Defined(State, "state");
        MessageRules.OptionalText(Reason, 128, "reason");
    }
}

/// <summary>edgelam/v1/devices/{id}/heartbeat: load over the last interval, for the orchestrator's queue model.</summary>
public sealed record DeviceHeartbeat : IWireMessage
{
    /// <summary>Increases by one per heartbeat since boot.</summary>
    public required long Sequence { get; init; }

    /// <summary>Length of the interval this heartbeat covers, milliseconds (1..3 600 000).</summary>
    public required int IntervalMilliseconds { get; init; }

    /// <summary>Stage tasks waiting in the device queue now (0..100 000).</summary>
    public required int QueueLength { get; init; }

    /// <summary>Milliseconds of the interval spent computing (0..intervalMilliseconds).</summary>
    public required int BusyMilliseconds { get; init; }

    /// <summary>Free RAM now, bytes.</summary>
    public required long FreeMemoryBytes { get; init; }

    /// <summary>Die or board temperature, degrees Celsius (-60..150); absent without a sensor.</summary>
    public double? TemperatureCelsius { get; init; }

    /// <inheritdoc/>
    public void Validate()
    {
        MessageRules.Range(Sequence, 0, long.MaxValue, "sequence");
        MessageRules.Range(IntervalMilliseconds, 1, 3_600_000, "intervalMilliseconds");
        MessageRules.Range(QueueLength, 0, 100_000, "queueLength");
        MessageRules.Range(BusyMilliseconds, 0, IntervalMilliseconds, "busyMilliseconds");
        MessageRules.Range(FreeMemoryBytes, 0, 1L << 40, "freeMemoryBytes");
        if (TemperatureCelsius is { } celsius)
        {
            MessageRules.Range(celsius, -60, 150, "temperatureCelsius");
        }
    }
}

/// <summary>edgelam/v1/devices/{id}/deploy/ack: outcome of a <see cref="Deployment"/>.</summary>
public sealed record DeploymentAck : IWireMessage
{
    /// <summary>Variant of the deployment acknowledged.</summary>
    public required string VariantId { get; init; }

    /// <summary>Stage the variant serves.</summary>
    public required string StageId { get; init; }

    /// <summary>loaded, removed or failed.</summary>
    public required DeploymentOutcome Outcome { get; init; }

    /// <summary>Why it failed; present exactly when the outcome is failed.</summary>
    public string? Error { get; init; }

    /// <summary>Time to fetch, verify and load, milliseconds; optional.</summary>
    public double? LoadMilliseconds { get; init; }

    /// <summary>RAM the loaded variant uses, bytes; optional.</summary>
    public long? MemoryBytes { get; init; }

    /// <inheritdoc/>
    public void Validate()
    {
        MessageRules.Identifier(VariantId, "variantId");
        MessageRules.Identifier(StageId, "stageId");
        MessageRules.Defined(Outcome, "outcome");
        MessageRules.OptionalText(Error, MessageRules.MaxTextLength, "error");
        if ((Outcome == DeploymentOutcome.Failed) != (Error is not null))
        {
            throw new WireFormatException(WireErrorCode.Inconsistent, "error", "error is required exactly when the outcome is failed");
        }

        if (LoadMilliseconds is { } milliseconds)
        {
            MessageRules.Range(milliseconds, 0, 86_400_000, "loadMilliseconds");
        }

        if (MemoryBytes is { } bytes)
        {
            MessageRules.Range(bytes, 0, 1L << 40, "memoryBytes");
        }
    }
}
