using EdgeLam.Gateway.Persistence;
using EdgeLam.Gateway.Training.Rounds;
using Microsoft.Data.Sqlite;

namespace EdgeLam.Gateway.Tests.Persistence;

/// <summary>The replay guard's (round, device, nonce) set of accepted updates on a real SQLite file, across a reopen of the database.</summary>
public sealed class PersistentReplayGuardTests : IDisposable
{
    private readonly string _path = Path.Combine(Path.GetTempPath(), "edgelam-replay-" + Guid.NewGuid().ToString("N") + ".db");
    private static readonly DateTimeOffset T0 = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly byte[] Payload = [1, 2, 3];

    [Fact]
    public void Updates_accepted_before_a_restart_make_their_copies_replays_and_further_updates_duplicates_after_it()
    {
        using (var store = new GatewayStore(_path))
        {
            var guard = new UpdateReplayGuard(store);
            Assert.Equal(UpdateArrival.First, guard.Record(3, "pi-1", "nonce-round3-pi1-a", Payload));
            Accept(store, 3, "pi-1", "nonce-round3-pi1-a");
            Assert.Equal(UpdateArrival.First, guard.Record(3, "esp-1", null, Payload));
            Accept(store, 3, "esp-1", null);
        }

        using var reopened = new GatewayStore(_path);
        var restarted = new UpdateReplayGuard(reopened);
        Assert.Equal(2, restarted.Restore(sinceRound: 1));
        Assert.Equal(UpdateArrival.Replayed, restarted.Record(3, "pi-1", "nonce-round3-pi1-a", [9]));
        Assert.Equal(UpdateArrival.Replayed, restarted.Record(3, "esp-1", null, Payload));
        Assert.Equal(UpdateArrival.Duplicate, restarted.Record(3, "pi-1", "nonce-round3-pi1-b", Payload));
        Assert.Equal(UpdateArrival.First, restarted.Record(4, "pi-1", "nonce-round3-pi1-a", Payload));
    }

    [Fact]
    public void Forgotten_rounds_leave_the_database_and_are_not_restored()
    {
        using (var store = new GatewayStore(_path))
        {
            Accept(store, 1, "pi-1", "nonce-round1-pi1-a");
            Accept(store, 2, "pi-1", "nonce-round2-pi1-a");
            new UpdateReplayGuard(store).ForgetRoundsBefore(2);
            Assert.Equal([2], store.Arrivals(sinceRound: 0).Select(a => a.Round));
        }

        using var reopened = new GatewayStore(_path);
        var restarted = new UpdateReplayGuard(reopened);
        Assert.Equal(1, restarted.Restore(sinceRound: 0));
        Assert.Equal(UpdateArrival.First, restarted.Record(1, "pi-1", "nonce-round1-pi1-a", Payload));
    }

    [Fact]
    public void An_update_a_read_only_database_refused_may_be_sent_again_without_being_called_a_replay()
    {
        const int SqliteReadOnly = 8; // SQLITE_READONLY, sqlite3.h
        using var store = new GatewayStore(_path);
        var guard = new UpdateReplayGuard(store);
        Assert.Equal(UpdateArrival.First, guard.Record(1, "pi-1", "nonce-round1-pi1-a", Payload));
        store.RefuseWrites(true);
        Assert.Equal(SqliteReadOnly, Assert.Throws<SqliteException>(() => Accept(store, 1, "pi-1", "nonce-round1-pi1-a")).SqliteErrorCode);
        guard.Forget(1, "pi-1", "nonce-round1-pi1-a", Payload);
        store.RefuseWrites(false);

        Assert.Empty(store.Arrivals(sinceRound: 0));
        Assert.Equal(UpdateArrival.First, guard.Record(1, "pi-1", "nonce-round1-pi1-a", Payload));
        Assert.Equal(UpdateArrival.Replayed, guard.Record(1, "pi-1", "nonce-round1-pi1-a", Payload));
    }

    private static void Accept(GatewayStore store, int round, string deviceId, string? nonce) =>
        store.AcceptUpdate(new AcceptedUpdateRecord(round, deviceId, Payload),
            new LedgerEntry(T0, deviceId, round, $"edgelam/v1/devices/{deviceId}/update", Payload.Length, LedgerOutcome.Accepted, ""),
            UpdateReplayGuard.ArrivalKey(nonce, Payload));

    public void Dispose()
    {
        foreach (var file in new[] { _path, _path + "-wal", _path + "-shm" })
            File.Delete(file);
    }
}
