using System.Security.Cryptography;

namespace EdgeLam.Gateway.Training.Rounds;

/// <summary>What the gateway makes of an update in a round, before looking at its content.</summary>
public enum UpdateArrival
{
    /// <summary>The device's first update in this round.</summary>
    First,

    /// <summary>Same (round, device, nonce) as an update already received — or, without a nonce, the same bytes.</summary>
    Replayed,

    /// <summary>Another update from a device whose update for this round already arrived; the first one counts.</summary>
    Duplicate,
}

/// <summary>
/// Replay and duplicate detection of updates, keyed by (round, device, nonce) (WIRE.md, LoraUpdateHeader). Every
/// arrival is remembered, so a replay of a duplicate is still a replay, and a replay that arrives after its round
/// closed is still called a replay, for the rounds kept (<see cref="ForgetRoundsBefore"/>).
/// </summary>
public sealed class UpdateReplayGuard
{
    private readonly Lock _gate = new();
    private readonly HashSet<(int Round, string DeviceId, string Key)> _seen = [];
    private readonly HashSet<(int Round, string DeviceId)> _devicesWithUpdate = [];

    /// <summary>Classifies and records one arrival; <paramref name="nonce"/> null falls back to the payload's SHA-256.</summary>
    public UpdateArrival Record(int round, string deviceId, string? nonce, byte[] payload)
    {
        ArgumentNullException.ThrowIfNull(payload);
        var key = nonce is null ? "sha256:" + Convert.ToHexStringLower(SHA256.HashData(payload)) : "nonce:" + nonce;
        lock (_gate)
        {
            if (!_seen.Add((round, deviceId, key))) return UpdateArrival.Replayed;
            return _devicesWithUpdate.Add((round, deviceId)) ? UpdateArrival.First : UpdateArrival.Duplicate;
        }
    }

    /// <summary>Forgets rounds before <paramref name="round"/>, so memory stays bounded over a long run.</summary>
    public void ForgetRoundsBefore(int round)
    {
        lock (_gate)
        {
            _seen.RemoveWhere(entry => entry.Round < round);
            _devicesWithUpdate.RemoveWhere(entry => entry.Round < round);
        }
    }
}
