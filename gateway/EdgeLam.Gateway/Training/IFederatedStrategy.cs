namespace EdgeLam.Gateway.Training;

/// <summary>
/// A federated training strategy (after Flower's Strategy: configure_train / aggregate_train).
/// Implementations hold no per-run state; everything comes in through <see cref="RoundContext"/>.
/// </summary>
public interface IFederatedStrategy
{
    /// <summary>Stable name used in configuration and results (e.g. "fedft_h").</summary>
    string Name { get; }

    /// <summary>Chooses the round's participants and what each one trains and starts from.</summary>
    IReadOnlyList<TrainingInstruction> ConfigureTrain(RoundContext context, IReadOnlyList<FleetMember> participants);

    /// <summary>
    /// Combines the replies into a new global state and per-device downlinks. Failures are counted,
    /// malformed replies (wrong shape, NaN/infinity) are rejected with a reason; never throws for bad replies.
    /// </summary>
    AggregationResult AggregateTrain(RoundContext context, IReadOnlyList<TrainingReply> replies, IReadOnlyList<TrainingFailure> failures);

    /// <summary>
    /// The global state <see cref="AggregateTrain"/> gives for these replies, without planning or measuring
    /// downlinks; replaying stored rounds (unlearning) needs nothing else.
    /// </summary>
    GlobalModelState AggregateGlobal(RoundContext context, IReadOnlyList<TrainingReply> replies) => AggregateTrain(context, replies, []).Global;

    /// <summary>
    /// True when a round's aggregate of each tensor depends only on that round's contributions to it (the
    /// previous global only keeps the tensors nobody trained), so a tensor retrained later can skip replay.
    /// </summary>
    bool AggregatesEachTensorFromItsRoundOnly => false;

    /// <summary>
    /// True when a round's aggregate is the previous global plus the weighted mean of the devices' changes (each
    /// device's upload minus the adapter it was sent), per projection over the devices that trained it; replaying
    /// stored rounds then needs each contribution's change only, not the strategy.
    /// </summary>
    bool AggregatesChangesFromStart => false;
}
