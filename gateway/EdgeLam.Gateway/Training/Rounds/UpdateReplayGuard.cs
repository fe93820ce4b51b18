using System.Security.Cryptography;
using EdgeLam.Gateway.Persistence;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

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
/// closed is still called a replay, for the rounds kept (<see cref="ForgetRoundsBefore"/>). The keys of accepted
/// updates are stored with them (<see cref="GatewayStore.AcceptUpdate"/>) and <see cref="Restore"/> reads them back,
/// so a replay of an accepted update after a gateway restart is still refused.
/// </summary>
public sealed partial class UpdateReplayGuard(GatewayStore? store = null, ILogger<UpdateReplayGuard>? logger = null)
{
    private readonly Lock _gate = new();
    private readonly HashSet<(int Round, string DeviceId, string Key)> _seen = [];
    private readonly HashSet<(int Round, string DeviceId)> _devicesWithUpdate = [];
    private readonly ILogger _logger = logger ?? NullLogger<UpdateReplayGuard>.Instance;

    /// <summary>What identifies one upload: its nonce, or without one (an older sender) the payload's SHA-256.</summary>
    public static string ArrivalKey(string? nonce, byte[] payload)
    {
        ArgumentNullException.ThrowIfNull(payload);
        return nonce is null ? "sha256:" + Convert.ToHexStringLower(SHA256.HashData(payload)) : "nonce:" + nonce;
    }

    /// <summary>Classifies and records one arrival in memory.</summary>
    public UpdateArrival Record(int round, string deviceId, string? nonce, byte[] payload)
    {
        var key = ArrivalKey(nonce, payload);
        lock (_gate)
        {
            if (!_seen.Add((round, deviceId, key))) return UpdateArrival.Replayed;
            return _devicesWithUpdate.Add((round, deviceId)) ? UpdateArrival.First : UpdateArrival.Duplicate;
        }
    }

    /// <summary>
    /// Forgets a first arrival the gateway could not take (storage unavailable): the device may send it again, and that
    /// copy is neither a replay nor a duplicate.
    /// </summary>
    public void Forget(int round, string deviceId, string? nonce, byte[] payload)
    {
        var key = ArrivalKey(nonce, payload);
        lock (_gate)
        {
            if (_seen.Remove((round, deviceId, key))) _devicesWithUpdate.Remove((round, deviceId));
        }
    }

    /// <summary>Reads back the stored arrival keys of round <paramref name="sinceRound"/> and later (after a restart); returns how many.</summary>
    public int Restore(int sinceRound)
    {
        if (store is null) return 0;
        var arrivals = store.Arrivals(sinceRound);
        lock (_gate)
        {
            foreach (var (round, deviceId, key) in arrivals)
            {
                _seen.Add((round, deviceId, key));
                _devicesWithUpdate.Add((round, deviceId));
            }
        }

        return arrivals.Count;
    }

    /// <summary>Forgets rounds before <paramref name="round"/>, in memory and in the store, so both stay bounded over a long run.</summary>
    public void ForgetRoundsBefore(int round)
    {
        lock (_gate)
        {
            _seen.RemoveWhere(entry => entry.Round < round);
            _devicesWithUpdate.RemoveWhere(entry => entry.Round < round);
        }

        try
        {
            store?.ForgetArrivalsBefore(round);
        }
        catch (SqliteException ex)
        {
            // Old rows only cost space; the next round's start deletes them again.
            LogNotForgotten(ex, round, ex.SqliteErrorCode);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Update arrivals before round {Round} could not be deleted (SQLite error {SqliteError})")]
    private partial void LogNotForgotten(Exception exception, int round, int sqliteError);
}
