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
        store.StartRound(1, "fedft_h", T0);
        store.CompleteRound(1, [new ContributionRecord(1, "pi-1", 10, [1], 1), new ContributionRecord(1, "esp-1", 10, [2], 1)], [0], "{}", T0);

        Assert.Equal(1, store.ForgetDevice("esp-1", T0));
        Assert.Equal(["pi-1"], store.Contributions().Select(c => c.DeviceId));
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

    public void Dispose()
    {
        foreach (var suffix in new[] { "", "-wal", "-shm" })
            File.Delete(_path + suffix);
    }
}
