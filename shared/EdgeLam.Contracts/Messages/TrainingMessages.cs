using EdgeLam.Contracts.Wire;

namespace EdgeLam.Contracts.Messages;

/// <summary>edgelam/v1/devices/{id}/assign: what the device trains this round (FedFT-H configure step).</summary>
public sealed record TrainingAssignment : IWireMessage
{
    /// <summary>Round number, 1..1 000 000.</summary>
    public required int Round { get; init; }

    /// <summary>What to train: LoRA adapters (absent means lora) or every trainable weight (full).</summary>
    public TrainingScope? Mode { get; init; }

    /// <summary>LoRA rank to train, 1..64 (at most the device's maxLoraRank); 0 in full mode.</summary>
    public required int Rank { get; init; }

    /// <summary>LoRA alpha, in (0, 1024]: the device scales its adapter by alpha / rank (Hu et al. 2021); absent in full mode.</summary>
    public double? LoraAlpha { get; init; }

    /// <summary>Encoder layers to adapt, distinct and ascending.</summary>
    public required IReadOnlyList<int> Layers { get; init; }

    /// <summary>Precision of the returned update (fp32, fp16 or int8).</summary>
    public required Precision Precision { get; init; }

    /// <summary>Optimizer steps to run locally, 1..100 000.</summary>
    public required int LocalSteps { get; init; }

    /// <summary>Examples per step, 1..4096.</summary>
    public required int BatchSize { get; init; }

    /// <summary>Learning rate, in (0, 1].</summary>
    public required double LearningRate { get; init; }

    /// <summary>Updates arriving after this instant (Unix milliseconds, UTC) are rejected as stale.</summary>
    public required long DeadlineUnixMilliseconds { get; init; }

    /// <summary>Seed of the Dirichlet split of the training set.</summary>
    public required long PartitionSeed { get; init; }

    /// <summary>Index of this device's shard, 0..partitionCount-1.</summary>
    public required int PartitionIndex { get; init; }

    /// <summary>Number of shards of the split, 1..100 000.</summary>
    public required int PartitionCount { get; init; }

    /// <summary>Dirichlet concentration of the split, in (0, 1000]; small is more non-IID.</summary>
    public required double DirichletAlpha { get; init; }

    /// <summary>The mode, lora when the message names none.</summary>
    public TrainingScope ModeOrDefault() => Mode ?? TrainingScope.Lora;

    /// <inheritdoc/>
    public void Validate()
    {
        MessageRules.Range(Round, 1, MessageRules.MaxRound, "round");
        MessageRules.TrainingExchange(Mode, Rank, Precision, "rank", "precision");
        MessageRules.Layers(Layers, "layers");
        if (LoraAlpha is { } alpha)
        {
            if (ModeOrDefault() == TrainingScope.Full)
            {
                throw new Wire.WireFormatException(Wire.WireErrorCode.Inconsistent, "loraAlpha", "a full-model assignment has no LoRA alpha");
            }

            MessageRules.Positive(alpha, 0, 1024, "loraAlpha");
        }

        MessageRules.Range(LocalSteps, 1, 100_000, "localSteps");
        MessageRules.Range(BatchSize, 1, 4096, "batchSize");
        MessageRules.Positive(LearningRate, 0, 1, "learningRate");
        MessageRules.Range(DeadlineUnixMilliseconds, 1, long.MaxValue, "deadlineUnixMilliseconds");
        MessageRules.Range(PartitionCount, 1, 100_000, "partitionCount");
        MessageRules.Range(PartitionIndex, 0, PartitionCount - 1, "partitionIndex");
        MessageRules.Positive(DirichletAlpha, 0, 1000, "dirichletAlpha");
    }
}

/// <summary>
/// JSON header of the bundle on edgelam/v1/devices/{id}/update: one device's LoRA factors after local training.
/// Frames are named "layers.{layer}.{projection}.a" (rank x in) and "layers.{layer}.{projection}.b" (out x rank).
/// </summary>
public sealed record LoraUpdateHeader : IWireMessage
{
    /// <summary>Round of the assignment this answers.</summary>
    public required int Round { get; init; }

    /// <summary>LoRA factors (absent means lora) or every trainable weight (full, frames "weights.{tensor}").</summary>
    public TrainingScope? Mode { get; init; }

    /// <summary>LoRA rank of the frames; 0 in full mode.</summary>
    public required int Rank { get; init; }

    /// <summary>Layers the frames cover, distinct and ascending.</summary>
    public required IReadOnlyList<int> Layers { get; init; }

    /// <summary>Precision of the frames (fp32 frames, fp16 frames, or int8 per-channel frames; full mode: fp32 or fp16).</summary>
    public required Precision Precision { get; init; }

    /// <summary>Local training examples seen, the aggregation weight; 1..10 000 000.</summary>
    public required int SampleCount { get; init; }

    /// <summary>Optimizer steps actually run.</summary>
    public required int LocalSteps { get; init; }

    /// <summary>Mean training loss over the last local steps, finite and non-negative.</summary>
    public required double TrainingLoss { get; init; }

    /// <summary>Id of the frozen base model the factors adapt.</summary>
    public required string BaseModelId { get; init; }

    /// <summary>
    /// Fresh random value per upload (devices send 32 hex digits, 128 bits): the gateway refuses a second update with the
    /// same (round, device, nonce) as replayed. 16..64 characters of [A-Za-z0-9._-]; optional so older senders stay valid.
    /// </summary>
    public string? Nonce { get; init; }

    /// <summary>Shortest nonce accepted: 16 characters, 64 bits as hex.</summary>
    public const int MinimumNonceLength = 16;

    /// <summary>The mode, lora when the header names none.</summary>
    public TrainingScope ModeOrDefault() => Mode ?? TrainingScope.Lora;

    /// <inheritdoc/>
    public void Validate()
    {
        if (Nonce is not null)
        {
            MessageRules.Identifier(Nonce, "nonce");
            if (Nonce.Length < MinimumNonceLength)
            {
                throw new WireFormatException(WireErrorCode.OutOfRange, "nonce", $"{Nonce.Length} characters, at least {MinimumNonceLength} are required");
            }
        }

        MessageRules.Range(Round, 1, MessageRules.MaxRound, "round");
        MessageRules.TrainingExchange(Mode, Rank, Precision, "rank", "precision");
        MessageRules.Layers(Layers, "layers");
        MessageRules.Range(SampleCount, 1, 10_000_000, "sampleCount");
        MessageRules.Range(LocalSteps, 1, 100_000, "localSteps");
        MessageRules.Range(TrainingLoss, 0, 1e6, "trainingLoss");
        MessageRules.Identifier(BaseModelId, "baseModelId");
    }
}

/// <summary>
/// JSON header of the bundle on edgelam/v1/devices/{id}/adapter: the global adapter at this device's rank.
/// Frames are named as in <see cref="LoraUpdateHeader"/>.
/// </summary>
public sealed record AdapterHeader : IWireMessage
{
    /// <summary>Round whose aggregation produced the adapter; 0 for the initial adapter.</summary>
    public required int Round { get; init; }

    /// <summary>LoRA factors (absent means lora) or the global model's weights (full, frames "weights.{tensor}").</summary>
    public TrainingScope? Mode { get; init; }

    /// <summary>LoRA rank of the frames (the device's assigned rank); 0 in full mode.</summary>
    public required int Rank { get; init; }

    /// <summary>Layers the frames cover.</summary>
    public required IReadOnlyList<int> Layers { get; init; }

    /// <summary>Precision of the frames.</summary>
    public required Precision Precision { get; init; }

    /// <summary>Id of the frozen base model the factors adapt.</summary>
    public required string BaseModelId { get; init; }

    /// <summary>The mode, lora when the header names none.</summary>
    public TrainingScope ModeOrDefault() => Mode ?? TrainingScope.Lora;

    /// <inheritdoc/>
    public void Validate()
    {
        MessageRules.Range(Round, 0, MessageRules.MaxRound, "round");
        MessageRules.TrainingExchange(Mode, Rank, Precision, "rank", "precision");
        MessageRules.Layers(Layers, "layers");
        MessageRules.Identifier(BaseModelId, "baseModelId");
    }
}
