using EdgeLam.Gateway.Persistence;

namespace EdgeLam.Gateway.Tests.Persistence;

public sealed class GatewayStoreTests : IDisposable
{
    private readonly string _path = Path.Combine(Path.GetTempPath(), "edgelam-store-" + Guid.NewGuid().ToString("N") + ".db");
    private static readonly DateTimeOffset T0 = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public void A_completed_round_survives_reopening_and_an_interrupted_one_is_failed_with_a_reason()
    {
        using (var store = new GatewayStore(_path))
        {
            store.StartRound(1, "fedft_h", T0);
            store.CompleteRound(1, [new ContributionRecord(1, "pi-1", 120, [1, 2, 3], 4096), new ContributionRecord(1, "esp-1", 40, [4], 512)],
                [9, 9, 9], """{"accuracy":0.8}""", T0.AddSeconds(5));
            store.StartRound(2, "fedft_h", T0.AddSeconds(6));
        }

        using var reopened = new GatewayStore(_path);
        Assert.Equal(1, reopened.FailInterruptedRounds(T0.AddSeconds(60)));
        var rounds = reopened.Rounds();
        Assert.Equal(["completed", "failed"], rounds.Select(r => r.State));
        Assert.Contains("restarted", rounds[1].MetricsJson, StringComparison.Ordinal);
        var latest = reopened.LatestGlobalState();
        Assert.NotNull(latest);
        Assert.Equal(1, latest.Value.Round);
        Assert.Equal(new byte[] { 9, 9, 9 }, latest.Value.Payload);
        Assert.Equal(2, reopened.Contributions().Count);
    }

    [Fact]
    public void Forgetting_a_device_deletes_only_its_contributions_and_bans_it_until_reenrolled()
    {
        using var store = new GatewayStore(_path);
        store.StartRound(new RoundPlanRecord(1, "fedft_h", T0, [0], [new AssignmentRecord("pi-1", "{}", [5]), new AssignmentRecord("esp-1", "{}", [6])]), T0);
        store.AcceptUpdate(new AcceptedUpdateRecord(1, "pi-1", [1]), new LedgerEntry(T0, "pi-1", 1, "update", 1, "accepted", ""));
        store.AcceptUpdate(new AcceptedUpdateRecord(1, "esp-1", [2]), new LedgerEntry(T0, "esp-1", 1, "update", 1, "accepted", ""));
        store.CompleteRound(1, [new ContributionRecord(1, "pi-1", 10, [1], 1), new ContributionRecord(1, "esp-1", 10, [2], 1)], [0], "{}", T0);

        Assert.Equal(1, store.ForgetDevice("esp-1", T0));
        Assert.Equal(["pi-1"], store.Contributions().Select(c => c.DeviceId));
        Assert.Equal(["pi-1"], store.AcceptedUpdates(1).Select(u => u.DeviceId));
        Assert.Null(store.AssignedStart(1, "esp-1"));
        Assert.Equal(new byte[] { 5 }, store.AssignedStart(1, "pi-1"));
        Assert.True(store.IsForgotten("esp-1"));
        store.Reenroll("esp-1");
        Assert.False(store.IsForgotten("esp-1"));
    }

    [Fact]
    public void The_ledger_counts_every_update_by_outcome()
    {
        using var store = new GatewayStore(_path);
        store.AppendLedger(new LedgerEntry(T0, "pi-1", 1, "edgelam/v1/devices/pi-1/update", 100, "accepted", ""));
        store.AppendLedger(new LedgerEntry(T0, "pi-1", 1, "edgelam/v1/devices/pi-1/update", 100, "rejected", "duplicate nonce"));
        store.AppendLedger(new LedgerEntry(T0, "esp-1", null, "edgelam/v1/devices/esp-1/update", 3, "rejected", "Truncated"));

        var totals = store.LedgerTotals();
        Assert.Equal(1, totals["accepted"]);
        Assert.Equal(2, totals["rejected"]);
        Assert.Equal("duplicate nonce", store.Ledger()[1].Reason);
    }

    [Fact]
    public void A_running_round_keeps_its_plan_and_accepted_updates_across_reopening_and_is_not_failed_when_resumed()
    {
        var plan = new RoundPlanRecord(3, "fedft_h", T0.AddMinutes(5), [7, 7], [new AssignmentRecord("pi-1", "{}", [1]), new AssignmentRecord("pi-2", "{}", [2])]);
        using (var store = new GatewayStore(_path))
        {
            store.StartRound(2, "fedft_h", T0);
            store.StartRound(plan, T0.AddSeconds(1));
            store.AcceptUpdate(new AcceptedUpdateRecord(3, "pi-1", [5, 5, 5]), new LedgerEntry(T0, "pi-1", 3, "edgelam/v1/devices/pi-1/update", 3, LedgerOutcome.Accepted, ""));
        }

        using var reopened = new GatewayStore(_path);
        var interrupted = reopened.InterruptedRound();
        Assert.NotNull(interrupted);
        Assert.Equal(3, interrupted.Round);
        Assert.Equal(plan.Deadline, interrupted.Deadline);
        Assert.Equal(["pi-1", "pi-2"], interrupted.Assignments.Select(a => a.DeviceId));
        Assert.Equal(new byte[] { 5, 5, 5 }, Assert.Single(reopened.AcceptedUpdates(3)).Payload);
        // Round 2 has no plan and is failed; round 3 is being resumed and stays running.
        Assert.Equal(1, reopened.FailInterruptedRounds(T0.AddSeconds(60), resumedRound: 3));
        Assert.Equal(["failed", "running"], reopened.Rounds().Select(r => r.State));
        Assert.Equal(new LedgerCount(3, "pi-1", 1, 0), Assert.Single(reopened.LedgerCounts()));
    }

    [Fact]
    public void A_size_cap_makes_writes_fail_as_on_a_full_disk_and_the_update_is_not_half_stored()
    {
        using var store = new GatewayStore(_path);
        store.StartRound(new RoundPlanRecord(1, "fedft_h", T0, [1], []), T0);
        store.CapSize(store.SizeBytes());
        var error = Assert.Throws<Microsoft.Data.Sqlite.SqliteException>(() => store.AcceptUpdate(new AcceptedUpdateRecord(1, "pi-1", new byte[64 * 1024]),
            new LedgerEntry(T0, "pi-1", 1, "edgelam/v1/devices/pi-1/update", 65536, LedgerOutcome.Accepted, "")));
        Assert.Equal(13, error.SqliteErrorCode); // SQLITE_FULL
        Assert.Empty(store.AcceptedUpdates(1));
        Assert.Empty(store.Ledger());
    }

    public void Dispose()
    {
        foreach (var suffix in new[] { "", "-wal", "-shm" })
            File.Delete(_path + suffix);
    }
}
