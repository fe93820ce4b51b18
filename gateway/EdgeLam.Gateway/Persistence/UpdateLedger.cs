using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

namespace EdgeLam.Gateway.Persistence;

/// <summary>Updates the gateway decided on: accepted and rejected (with reasons), in total and per round and device.</summary>
public sealed record LedgerSummary(long Accepted, long Rejected, long Unpersisted, IReadOnlyList<LedgerCount> PerRoundAndDevice, IReadOnlyDictionary<string, long> RejectionReasons);

/// <summary>
/// The gateway's side of the update ledger: every update it received ends as one line, accepted or rejected
/// with a reason. Lines go to SQLite; when the database refuses a write (full disk, read-only file) the line
/// is kept in memory and counted as unpersisted, so the books still balance and the failure is visible.
/// </summary>
public sealed partial class UpdateLedger(GatewayStore store, ILogger<UpdateLedger> logger)
{
    private readonly Queue<LedgerEntry> _unpersisted = new();

    // Moving a line from memory to the database and reading both happen under one lock, so no line is counted twice or missed.
    private readonly Lock _gate = new();

    /// <summary>Lines the database could not take (yet), oldest first.</summary>
    public IReadOnlyList<LedgerEntry> Unpersisted
    {
        get
        {
            lock (_gate) return _unpersisted.ToArray();
        }
    }

    /// <summary>
    /// Appends a rejection (or any line not written together with its update); never throws for a database failure.
    /// Once the database takes a line again, the lines kept in memory meanwhile are written too.
    /// </summary>
    public void Record(LedgerEntry entry)
    {
        lock (_gate)
        {
            try
            {
                store.AppendLedger(entry);
            }
            catch (SqliteException ex)
            {
                Keep(entry, ex);
                return;
            }

            FlushUnpersistedLocked();
        }
    }

    /// <summary>Keeps a line in memory that the database refused, with the database's error in the log.</summary>
    public void Keep(LedgerEntry entry, SqliteException error)
    {
        lock (_gate) _unpersisted.Enqueue(entry);
        LogNotPersisted(error, entry.DeviceId, entry.Round, entry.Outcome, error.SqliteErrorCode);
    }

    /// <summary>Writes the lines kept in memory to the database, oldest first, until it refuses one; returns how many are left.</summary>
    public int FlushUnpersisted()
    {
        lock (_gate) return FlushUnpersistedLocked();
    }

    private int FlushUnpersistedLocked()
    {
        try
        {
            while (_unpersisted.TryPeek(out var entry))
            {
                store.AppendLedger(entry);
                _unpersisted.Dequeue();
            }
        }
        catch (SqliteException)
        {
            // Still refused: the lines stay in memory for the next try.
        }

        return _unpersisted.Count;
    }

    /// <summary>Totals and per (round, device) counts, stored lines and unpersisted ones together.</summary>
    public LedgerSummary Summarize()
    {
        lock (_gate) return SummarizeLocked();
    }

    private LedgerSummary SummarizeLocked()
    {
        var unpersisted = _unpersisted.ToArray();
        var counts = new Dictionary<(int?, string), (long Accepted, long Rejected)>();
        foreach (var line in store.LedgerCounts()) counts[(line.Round, line.DeviceId)] = (line.Accepted, line.Rejected);
        foreach (var entry in unpersisted)
        {
            var (accepted, rejected) = counts.GetValueOrDefault((entry.Round, entry.DeviceId));
            counts[(entry.Round, entry.DeviceId)] = entry.Outcome == LedgerOutcome.Accepted ? (accepted + 1, rejected) : (accepted, rejected + 1);
        }

        var reasons = store.Ledger().Concat(unpersisted).Where(e => e.Outcome == LedgerOutcome.Rejected)
            .GroupBy(e => ReasonKey(e.Reason), StringComparer.Ordinal).ToDictionary(g => g.Key, g => (long)g.Count(), StringComparer.Ordinal);
        var perDevice = counts.OrderBy(c => c.Key.Item1 ?? -1).ThenBy(c => c.Key.Item2, StringComparer.Ordinal)
            .Select(c => new LedgerCount(c.Key.Item1, c.Key.Item2, c.Value.Accepted, c.Value.Rejected)).ToArray();
        return new LedgerSummary(perDevice.Sum(c => c.Accepted), perDevice.Sum(c => c.Rejected), unpersisted.Length, perDevice, reasons);
    }

    /// <summary>The reason's leading code ("stale-round", "CrcMismatch"), so reasons group by kind, not by detail.</summary>
    private static string ReasonKey(string reason)
    {
        var colon = reason.IndexOf(':', StringComparison.Ordinal);
        return colon > 0 ? reason[..colon] : reason;
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Ledger line for {DeviceId} round {Round} ({Outcome}) could not be stored (SQLite error {SqliteError}); kept in memory")]
    private partial void LogNotPersisted(Exception exception, string deviceId, int? round, string outcome, int sqliteError);
}

/// <summary>The two fates of an update in the ledger.</summary>
public static class LedgerOutcome
{
    public const string Accepted = "accepted";
    public const string Rejected = "rejected";
}
