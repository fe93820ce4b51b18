using System.Text.Json.Serialization;

namespace EdgeLam.Contracts.Messages;

/// <summary>Device tier from the board profile (DESIGN.md, "Device tiers").</summary>
public enum DeviceTier
{
    /// <summary>ESP32 class, nanoFramework firmware, INT8 kernels.</summary>
    [JsonStringEnumMemberName("L")] L,

    /// <summary>Raspberry Pi class, .NET agent.</summary>
    [JsonStringEnumMemberName("M")] M,

    /// <summary>Jetson class, .NET agent.</summary>
    [JsonStringEnumMemberName("H")] H,
}

/// <summary>Numeric precision of a model variant or a LoRA exchange.</summary>
public enum Precision
{
    /// <summary>IEEE binary32.</summary>
    [JsonStringEnumMemberName("fp32")] Fp32,

    /// <summary>IEEE binary16.</summary>
    [JsonStringEnumMemberName("fp16")] Fp16,

    /// <summary>8-bit integer with scale and zero point.</summary>
    [JsonStringEnumMemberName("int8")] Int8,

    /// <summary>8-bit integer with pruned (zeroed) weights.</summary>
    [JsonStringEnumMemberName("pruned-int8")] PrunedInt8,
}

/// <summary>What a training round exchanges: LoRA factors of a frozen base, or every trainable weight.</summary>
public enum TrainingScope
{
    /// <summary>LoRA adapters at the assigned rank (the default when a message names no mode).</summary>
    [JsonStringEnumMemberName("lora")] Lora,

    /// <summary>All trainable weights of the model (full-model FedAvg, the communication-heavy reference).</summary>
    [JsonStringEnumMemberName("full")] Full,
}

/// <summary>Presence state in a retained status message.</summary>
public enum PresenceState
{
    /// <summary>Connected and serving.</summary>
    [JsonStringEnumMemberName("online")] Online,

    /// <summary>Disconnected (published as the MQTT last will, or on orderly shutdown).</summary>
    [JsonStringEnumMemberName("offline")] Offline,
}

/// <summary>What a deployment message asks of the device.</summary>
public enum DeploymentAction
{
    /// <summary>Fetch or take the model bytes and load the variant.</summary>
    [JsonStringEnumMemberName("deploy")] Deploy,

    /// <summary>Unload the variant and free its memory.</summary>
    [JsonStringEnumMemberName("remove")] Remove,
}

/// <summary>Outcome reported in a deployment acknowledgement.</summary>
public enum DeploymentOutcome
{
    /// <summary>The variant is loaded and serves requests.</summary>
    [JsonStringEnumMemberName("loaded")] Loaded,

    /// <summary>The variant was unloaded.</summary>
    [JsonStringEnumMemberName("removed")] Removed,

    /// <summary>The deployment failed; the error field says why.</summary>
    [JsonStringEnumMemberName("failed")] Failed,
}

/// <summary>Outcome of one inference stage task.</summary>
public enum InferenceOutcome
{
    /// <summary>The output frame is in the bundle.</summary>
    [JsonStringEnumMemberName("ok")] Ok,

    /// <summary>The stage failed; the error field says why.</summary>
    [JsonStringEnumMemberName("failed")] Failed,

    /// <summary>The deadline passed before the task ran; no output.</summary>
    [JsonStringEnumMemberName("deadline-missed")] DeadlineMissed,
}

/// <summary>Why the gateway refused a device's message.</summary>
public enum RejectionReason
{
    /// <summary>The payload broke the wire contract (see the error code).</summary>
    [JsonStringEnumMemberName("malformed")] Malformed,

    /// <summary>The device has not said hello, or its identity does not match the topic.</summary>
    [JsonStringEnumMemberName("unknown-device")] UnknownDevice,

    /// <summary>An update for a round the device was not assigned to.</summary>
    [JsonStringEnumMemberName("not-assigned")] NotAssigned,

    /// <summary>An update that arrived after its round's deadline or for a past round.</summary>
    [JsonStringEnumMemberName("stale-round")] StaleRound,

    /// <summary>The update does not match the assignment (rank, layers, precision).</summary>
    [JsonStringEnumMemberName("assignment-mismatch")] AssignmentMismatch,

    /// <summary>The payload exceeds a limit.</summary>
    [JsonStringEnumMemberName("oversize")] Oversize,

    /// <summary>The gateway could not store the message (full disk, read-only database), so it did not accept it.</summary>
    [JsonStringEnumMemberName("storage-unavailable")] StorageUnavailable,

    /// <summary>An update with the (round, device, nonce) of one already received: a replay or a resend.</summary>
    [JsonStringEnumMemberName("replayed")] Replayed,

    /// <summary>A second, different update from the same device in the same round; the first one counts.</summary>
    [JsonStringEnumMemberName("duplicate")] Duplicate,

    /// <summary>A well-formed update that fails validation before aggregation (shape against the model, scale, norm bound).</summary>
    [JsonStringEnumMemberName("invalid-update")] InvalidUpdate,
}

/// <summary>Kind of a gateway event.</summary>
public enum GatewayEventKind
{
    /// <summary>A device said hello and was admitted to the registry.</summary>
    [JsonStringEnumMemberName("device-registered")] DeviceRegistered,

    /// <summary>A device went offline (will or orderly).</summary>
    [JsonStringEnumMemberName("device-offline")] DeviceOffline,

    /// <summary>A training round started.</summary>
    [JsonStringEnumMemberName("round-started")] RoundStarted,

    /// <summary>A training round was aggregated into the global adapter.</summary>
    [JsonStringEnumMemberName("round-aggregated")] RoundAggregated,

    /// <summary>A training round ended without quorum.</summary>
    [JsonStringEnumMemberName("round-failed")] RoundFailed,

    /// <summary>A device message was refused (mirrors the device's rejected topic).</summary>
    [JsonStringEnumMemberName("message-rejected")] MessageRejected,

    /// <summary>A variant was deployed to or removed from a device.</summary>
    [JsonStringEnumMemberName("deployment-changed")] DeploymentChanged,

    /// <summary>Removal of a device's contribution began.</summary>
    [JsonStringEnumMemberName("unlearning-started")] UnlearningStarted,

    /// <summary>Removal of a device's contribution finished and was verified.</summary>
    [JsonStringEnumMemberName("unlearning-verified")] UnlearningVerified,

    /// <summary>Removal of a device's contribution failed its verification.</summary>
    [JsonStringEnumMemberName("unlearning-failed")] UnlearningFailed,

    /// <summary>The broker refused a connection, publish or subscribe (credentials, certificate or topic ACL).</summary>
    [JsonStringEnumMemberName("access-refused")] AccessRefused,
}

/// <summary>Operator command on the gateway command topic.</summary>
public enum OperatorAction
{
    /// <summary>Remove one device's contribution from the global adapters.</summary>
    [JsonStringEnumMemberName("unlearn")] Unlearn,

    /// <summary>Stop starting new training rounds.</summary>
    [JsonStringEnumMemberName("pause-training")] PauseTraining,

    /// <summary>Start training rounds again.</summary>
    [JsonStringEnumMemberName("resume-training")] ResumeTraining,
}
