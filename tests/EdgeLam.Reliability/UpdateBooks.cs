using EdgeLam.Gateway.Persistence;

namespace EdgeLam.Reliability;

/// <summary>
/// Both sides of the update ledger: what devices published (the broker acknowledged it with a subscriber present)
/// against what the gateway accepted or rejected with a reason. Lost = published − accepted − rejected, and must be 0.
/// </summary>
public sealed record UpdateBooks(long Published, long Accepted, long Rejected, long Unpersisted, IReadOnlyDictionary<string, long> RejectionReasons)
{
    public long Lost => Published - Accepted - Rejected;

    public static UpdateBooks Empty { get; } = new(0, 0, 0, 0, new Dictionary<string, long>());

    public static UpdateBooks Of(long published, LedgerSummary gateway) =>
        new(published, gateway.Accepted, gateway.Rejected, gateway.Unpersisted, gateway.RejectionReasons);

    /// <summary>Reads both sides until they balance (an update still in flight is decided within moments) or <paramref name="within"/> passes.</summary>
    public static async Task<UpdateBooks> SettleAsync(Func<long> published, UpdateLedger ledger, TimeSpan within)
    {
        var deadline = DateTime.UtcNow + within;
        while (true)
        {
            var books = Of(published(), ledger.Summarize());
            if (books.Lost == 0 || DateTime.UtcNow > deadline) return books;
            await Task.Delay(100).ConfigureAwait(false);
        }
    }

    public UpdateBooks Add(UpdateBooks other) => new(Published + other.Published, Accepted + other.Accepted, Rejected + other.Rejected,
        Unpersisted + other.Unpersisted, RejectionReasons.Concat(other.RejectionReasons).GroupBy(r => r.Key, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Sum(r => r.Value), StringComparer.Ordinal));
}

/// <summary>What one fault scenario did: whether the gateway survived it with its books balanced, and how the round ended.</summary>
public sealed record ScenarioResult(string Name, bool Survived, bool RoundAggregated, string Outcome, UpdateBooks Books, double Seconds, IReadOnlyList<string> Checks);
