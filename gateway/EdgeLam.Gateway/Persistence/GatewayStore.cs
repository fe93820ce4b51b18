using Microsoft.Data.Sqlite;

namespace EdgeLam.Gateway.Persistence;

/// <summary>A round as persisted: its lifecycle state and the metrics the strategy reported.</summary>
public sealed record RoundRecord(int Round, string Strategy, string State, DateTimeOffset StartedAt, DateTimeOffset? CompletedAt, string MetricsJson);

/// <summary>One device's accepted update in one round: what aggregation used, kept so it can be unlearned.</summary>
public sealed record ContributionRecord(int Round, string DeviceId, long ExampleCount, byte[] Payload, long UplinkBytes);

/// <summary>Every update that reached the gateway, with its fate: accepted, or rejected with a reason.</summary>
public sealed record LedgerEntry(DateTimeOffset At, string DeviceId, int? Round, string Topic, long Bytes, string Outcome, string Reason);

/// <summary>What a round asked of one device, as persisted when the round opened (so a restart can re-send it).</summary>
public sealed record AssignmentRecord(string DeviceId, string InstructionJson, byte[] StartFrom);

/// <summary>A running round's plan: deadline, the global state it started from and every assignment.</summary>
public sealed record RoundPlanRecord(int Round, string Strategy, DateTimeOffset Deadline, byte[] GlobalAtStart, IReadOnlyList<AssignmentRecord> Assignments);

/// <summary>An update accepted into a round that has not closed yet: the payload exactly as received.</summary>
public sealed record AcceptedUpdateRecord(int Round, string DeviceId, byte[] Payload);

/// <summary>How many updates of one device in one round were accepted and rejected.</summary>
public sealed record LedgerCount(int? Round, string DeviceId, long Accepted, long Rejected);

public sealed record UnlearningAuditRecord(long Id, DateTimeOffset At, string DeviceId, string Method, string RequestedBy, string MetricsJson);

/// <summary>
/// The gateway's SQLite database: rounds, stored contributions (the input of unlearning), the global
/// adapter after each round (resume after restart), the update ledger and the unlearning audit.
/// Each write is one transaction, so a kill mid-round never leaves half a round behind.
/// </summary>
public sealed class GatewayStore : IDisposable
{
    private readonly SqliteConnection _connection;
    private readonly Lock _gate = new();

    public GatewayStore(string path)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(directory)) Directory.CreateDirectory(directory);
        _connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
        _connection.Open();
        Execute("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;");
        Execute("""
            CREATE TABLE IF NOT EXISTS rounds(
              round INTEGER PRIMARY KEY, strategy TEXT NOT NULL, state TEXT NOT NULL,
              started_at TEXT NOT NULL, completed_at TEXT, metrics_json TEXT NOT NULL DEFAULT '{}');
            CREATE TABLE IF NOT EXISTS contributions(
              round INTEGER NOT NULL, device_id TEXT NOT NULL, example_count INTEGER NOT NULL,
              payload BLOB NOT NULL, uplink_bytes INTEGER NOT NULL, PRIMARY KEY(round, device_id));
            CREATE TABLE IF NOT EXISTS global_states(
              round INTEGER PRIMARY KEY, payload BLOB NOT NULL);
            CREATE TABLE IF NOT EXISTS ledger(
              id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, device_id TEXT NOT NULL, round INTEGER,
              topic TEXT NOT NULL, bytes INTEGER NOT NULL, outcome TEXT NOT NULL, reason TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS unlearning_audit(
              id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, device_id TEXT NOT NULL, method TEXT NOT NULL,
              requested_by TEXT NOT NULL, metrics_json TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS forgotten_devices(
              device_id TEXT PRIMARY KEY, at TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS round_plans(
              round INTEGER PRIMARY KEY, deadline TEXT NOT NULL, global_at_start BLOB NOT NULL);
            CREATE TABLE IF NOT EXISTS round_assignments(
              round INTEGER NOT NULL, device_id TEXT NOT NULL, instruction_json TEXT NOT NULL, start_from BLOB NOT NULL,
              PRIMARY KEY(round, device_id));
            CREATE TABLE IF NOT EXISTS round_updates(
              round INTEGER NOT NULL, device_id TEXT NOT NULL, payload BLOB NOT NULL, PRIMARY KEY(round, device_id));
            CREATE TABLE IF NOT EXISTS update_arrivals(
              round INTEGER NOT NULL, device_id TEXT NOT NULL, arrival_key TEXT NOT NULL, PRIMARY KEY(round, device_id, arrival_key));
            """);
    }

    /// <summary>
    /// Caps the database file at about <paramref name="bytes"/> (SQLite max_page_count): past it every write fails
    /// with SQLITE_FULL, as on a full disk; returns the cap in pages.
    /// </summary>
    public long CapSize(long bytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(bytes);
        lock (_gate)
        {
            var pageSize = Query("PRAGMA page_size", r => r.GetInt64(0))[0];
            var pages = Math.Max(1, bytes / pageSize);
            return Query($"PRAGMA max_page_count = {pages}", r => r.GetInt64(0))[0];
        }
    }

    /// <summary>Lifts a cap set by <see cref="CapSize"/>: SQLite's largest page count, so writes succeed again while the disk has room.</summary>
    public void RemoveSizeCap()
    {
        lock (_gate) Execute("PRAGMA max_page_count = 4294967294");
    }

    /// <summary>
    /// With <paramref name="refuse"/> true every write fails with SQLITE_READONLY (SQLite query_only), as on a database
    /// whose file or volume turned read-only; false makes it writable again. Reads keep working either way.
    /// </summary>
    public void RefuseWrites(bool refuse)
    {
        lock (_gate) Execute(refuse ? "PRAGMA query_only = 1" : "PRAGMA query_only = 0");
    }

    /// <summary>Bytes the database occupies now (pages × page size, without the write-ahead log).</summary>
    public long SizeBytes()
    {
        lock (_gate)
            return Query("PRAGMA page_count", r => r.GetInt64(0))[0] * Query("PRAGMA page_size", r => r.GetInt64(0))[0];
    }

    /// <summary>Opens a round and stores its plan in one transaction, so a restart finds every assignment.</summary>
    public void StartRound(RoundPlanRecord plan, DateTimeOffset at)
    {
        lock (_gate)
        {
            using var transaction = _connection.BeginTransaction();
            Execute("INSERT OR REPLACE INTO rounds(round, strategy, state, started_at) VALUES ($r, $s, 'running', $t)",
                ("$r", plan.Round), ("$s", plan.Strategy), ("$t", at.ToString("O")));
            Execute("INSERT OR REPLACE INTO round_plans(round, deadline, global_at_start) VALUES ($r, $d, $g)",
                ("$r", plan.Round), ("$d", plan.Deadline.ToString("O")), ("$g", plan.GlobalAtStart));
            Execute("DELETE FROM round_assignments WHERE round=$r", ("$r", plan.Round));
            Execute("DELETE FROM round_updates WHERE round=$r", ("$r", plan.Round));
            foreach (var a in plan.Assignments)
                Execute("INSERT INTO round_assignments(round, device_id, instruction_json, start_from) VALUES ($r, $d, $j, $p)",
                    ("$r", plan.Round), ("$d", a.DeviceId), ("$j", a.InstructionJson), ("$p", a.StartFrom));
            transaction.Commit();
        }
    }

    /// <summary>
    /// Stores an accepted update, its ledger line and its arrival key (nonce or payload hash, what replay detection
    /// remembers) in one transaction; throws when the database cannot take it.
    /// </summary>
    public void AcceptUpdate(AcceptedUpdateRecord update, LedgerEntry entry, string? arrivalKey = null)
    {
        lock (_gate)
        {
            using var transaction = _connection.BeginTransaction();
            Execute("INSERT INTO round_updates(round, device_id, payload) VALUES ($r, $d, $p)",
                ("$r", update.Round), ("$d", update.DeviceId), ("$p", update.Payload));
            AppendLedgerRow(entry);
            if (arrivalKey is not null)
                Execute("INSERT OR IGNORE INTO update_arrivals(round, device_id, arrival_key) VALUES ($r, $d, $k)",
                    ("$r", update.Round), ("$d", update.DeviceId), ("$k", arrivalKey));
            transaction.Commit();
        }
    }

    /// <summary>The arrival keys of accepted updates of round <paramref name="sinceRound"/> and later.</summary>
    public IReadOnlyList<(int Round, string DeviceId, string ArrivalKey)> Arrivals(int sinceRound)
    {
        lock (_gate)
            return Query("SELECT round, device_id, arrival_key FROM update_arrivals WHERE round >= $r ORDER BY round, device_id",
                r => (r.GetInt32(0), r.GetString(1), r.GetString(2)), ("$r", sinceRound));
    }

    /// <summary>Forgets the update arrivals of rounds before <paramref name="round"/>; returns how many were deleted.</summary>
    public int ForgetArrivalsBefore(int round)
    {
        lock (_gate) return Execute("DELETE FROM update_arrivals WHERE round < $r", ("$r", round));
    }

    /// <summary>The latest round left running by a stop or a crash that has a stored plan, or null.</summary>
    public RoundPlanRecord? InterruptedRound()
    {
        lock (_gate)
        {
            var rows = Query("SELECT r.round, r.strategy, p.deadline, p.global_at_start FROM rounds r JOIN round_plans p ON p.round = r.round WHERE r.state='running' ORDER BY r.round DESC LIMIT 1",
                r => (Round: r.GetInt32(0), Strategy: r.GetString(1), Deadline: DateTimeOffset.Parse(r.GetString(2), System.Globalization.CultureInfo.InvariantCulture), Global: (byte[])r.GetValue(3)));
            if (rows.Count == 0) return null;
            var (round, strategy, deadline, global) = rows[0];
            var assignments = Query("SELECT device_id, instruction_json, start_from FROM round_assignments WHERE round=$r ORDER BY device_id",
                r => new AssignmentRecord(r.GetString(0), r.GetString(1), (byte[])r.GetValue(2)), ("$r", round));
            return new RoundPlanRecord(round, strategy, deadline, global, assignments);
        }
    }

    /// <summary>Updates accepted into <paramref name="round"/> so far, in device order.</summary>
    public IReadOnlyList<AcceptedUpdateRecord> AcceptedUpdates(int round)
    {
        lock (_gate)
            return Query("SELECT round, device_id, payload FROM round_updates WHERE round=$r ORDER BY device_id",
                r => new AcceptedUpdateRecord(r.GetInt32(0), r.GetString(1), (byte[])r.GetValue(2)), ("$r", round));
    }

    public void StartRound(int round, string strategy, DateTimeOffset at)
    {
        lock (_gate)
            Execute("INSERT OR REPLACE INTO rounds(round, strategy, state, started_at) VALUES ($r, $s, 'running', $t)",
                ("$r", round), ("$s", strategy), ("$t", at.ToString("O")));
    }

    /// <summary>Completes a round atomically: its contributions, the new global state and its metrics.</summary>
    public void CompleteRound(int round, IReadOnlyList<ContributionRecord> contributions, byte[] globalState, string metricsJson, DateTimeOffset at)
    {
        lock (_gate)
        {
            using var transaction = _connection.BeginTransaction();
            foreach (var c in contributions)
                Execute("INSERT OR REPLACE INTO contributions(round, device_id, example_count, payload, uplink_bytes) VALUES ($r, $d, $n, $p, $b)",
                    ("$r", c.Round), ("$d", c.DeviceId), ("$n", c.ExampleCount), ("$p", c.Payload), ("$b", c.UplinkBytes));
            Execute("INSERT OR REPLACE INTO global_states(round, payload) VALUES ($r, $p)", ("$r", round), ("$p", globalState));
            Execute("UPDATE rounds SET state='completed', completed_at=$t, metrics_json=$m WHERE round=$r",
                ("$r", round), ("$t", at.ToString("O")), ("$m", metricsJson));
            transaction.Commit();
        }
    }

    public void FailRound(int round, string reason, DateTimeOffset at)
    {
        lock (_gate)
            Execute("UPDATE rounds SET state='failed', completed_at=$t, metrics_json=json_object('failure', $m) WHERE round=$r",
                ("$r", round), ("$t", at.ToString("O")), ("$m", reason));
    }

    /// <summary>Rounds left 'running' by a crash (other than <paramref name="resumedRound"/>) are marked failed at start-up, with the reason.</summary>
    public int FailInterruptedRounds(DateTimeOffset at, int? resumedRound = null)
    {
        lock (_gate)
            return Execute("UPDATE rounds SET state='failed', completed_at=$t, metrics_json=json_object('failure', 'gateway restarted while the round was running') WHERE state='running' AND round IS NOT $keep",
                ("$t", at.ToString("O")), ("$keep", (object?)resumedRound ?? DBNull.Value));
    }

    public IReadOnlyList<RoundRecord> Rounds()
    {
        lock (_gate)
            return Query("SELECT round, strategy, state, started_at, completed_at, metrics_json FROM rounds ORDER BY round", r =>
                new RoundRecord(r.GetInt32(0), r.GetString(1), r.GetString(2), DateTimeOffset.Parse(r.GetString(3), System.Globalization.CultureInfo.InvariantCulture),
                    r.IsDBNull(4) ? null : DateTimeOffset.Parse(r.GetString(4), System.Globalization.CultureInfo.InvariantCulture), r.GetString(5)));
    }

    /// <summary>The latest completed round's global state, for resuming after a restart.</summary>
    public (int Round, byte[] Payload)? LatestGlobalState()
    {
        lock (_gate)
        {
            var rows = Query("SELECT g.round, g.payload FROM global_states g JOIN rounds r ON r.round = g.round WHERE r.state='completed' ORDER BY g.round DESC LIMIT 1",
                r => (r.GetInt32(0), (byte[])r.GetValue(1)));
            return rows.Count == 0 ? null : rows[0];
        }
    }

    public IReadOnlyList<ContributionRecord> Contributions(string? deviceId = null)
    {
        lock (_gate)
            return Query("SELECT round, device_id, example_count, payload, uplink_bytes FROM contributions WHERE $d IS NULL OR device_id=$d ORDER BY round, device_id",
                r => new ContributionRecord(r.GetInt32(0), r.GetString(1), r.GetInt64(2), (byte[])r.GetValue(3), r.GetInt64(4)), ("$d", (object?)deviceId ?? DBNull.Value));
    }

    /// <summary>Round, device and example count of every stored contribution, without the payloads.</summary>
    public IReadOnlyList<(int Round, string DeviceId, long ExampleCount)> ContributionKeys()
    {
        lock (_gate)
            return Query("SELECT round, device_id, example_count FROM contributions ORDER BY round, device_id", r => (r.GetInt32(0), r.GetString(1), r.GetInt64(2)));
    }

    /// <summary>One stored contribution, or null when there is none for that round and device.</summary>
    public ContributionRecord? Contribution(int round, string deviceId)
    {
        lock (_gate)
            return Query("SELECT round, device_id, example_count, payload, uplink_bytes FROM contributions WHERE round=$r AND device_id=$d",
                r => new ContributionRecord(r.GetInt32(0), r.GetString(1), r.GetInt64(2), (byte[])r.GetValue(3), r.GetInt64(4)), ("$r", round), ("$d", deviceId)).SingleOrDefault();
    }

    /// <summary>The adapters (encoded) a device was sent to start <paramref name="round"/> from, or null when that round stored no plan for it.</summary>
    public byte[]? AssignedStart(int round, string deviceId)
    {
        lock (_gate)
            return Query("SELECT start_from FROM round_assignments WHERE round=$r AND device_id=$d",
                r => (byte[])r.GetValue(0), ("$r", round), ("$d", deviceId)).SingleOrDefault();
    }

    /// <summary>
    /// Deletes a device's stored contributions, with its uploads kept for resuming rounds and the starts it was sent,
    /// and marks it forgotten; returns how many contributions were deleted.
    /// </summary>
    public int ForgetDevice(string deviceId, DateTimeOffset at)
    {
        lock (_gate)
        {
            using var transaction = _connection.BeginTransaction();
            var deleted = Execute("DELETE FROM contributions WHERE device_id=$d", ("$d", deviceId));
            Execute("DELETE FROM round_updates WHERE device_id=$d", ("$d", deviceId));
            Execute("DELETE FROM round_assignments WHERE device_id=$d", ("$d", deviceId));
            Execute("INSERT OR REPLACE INTO forgotten_devices(device_id, at) VALUES ($d, $t)", ("$d", deviceId), ("$t", at.ToString("O")));
            transaction.Commit();
            return deleted;
        }
    }

    public bool IsForgotten(string deviceId)
    {
        lock (_gate)
            return Query("SELECT 1 FROM forgotten_devices WHERE device_id=$d", _ => true, ("$d", deviceId)).Count > 0;
    }

    /// <summary>Re-enrolment lifts the ban that unlearning placed on an identity.</summary>
    public void Reenroll(string deviceId)
    {
        lock (_gate) Execute("DELETE FROM forgotten_devices WHERE device_id=$d", ("$d", deviceId));
    }

    public void AppendLedger(LedgerEntry entry)
    {
        lock (_gate) AppendLedgerRow(entry);
    }

    /// <summary>Accepted and rejected updates per round and device (round null: the update named no round the gateway knew).</summary>
    public IReadOnlyList<LedgerCount> LedgerCounts()
    {
        lock (_gate)
            return Query("SELECT round, device_id, SUM(outcome='accepted'), SUM(outcome='rejected') FROM ledger GROUP BY round, device_id ORDER BY round, device_id",
                r => new LedgerCount(r.IsDBNull(0) ? null : r.GetInt32(0), r.GetString(1), r.GetInt64(2), r.GetInt64(3)));
    }

    private void AppendLedgerRow(LedgerEntry entry) =>
        Execute("INSERT INTO ledger(at, device_id, round, topic, bytes, outcome, reason) VALUES ($t, $d, $r, $p, $b, $o, $why)",
            ("$t", entry.At.ToString("O")), ("$d", entry.DeviceId), ("$r", (object?)entry.Round ?? DBNull.Value), ("$p", entry.Topic),
            ("$b", entry.Bytes), ("$o", entry.Outcome), ("$why", entry.Reason));

    /// <summary>Counts per outcome; the invariant the fault tests check is received = accepted + rejected.</summary>
    public IReadOnlyDictionary<string, long> LedgerTotals()
    {
        lock (_gate)
            return Query("SELECT outcome, COUNT(*) FROM ledger GROUP BY outcome", r => (r.GetString(0), r.GetInt64(1)))
                .ToDictionary(t => t.Item1, t => t.Item2, StringComparer.Ordinal);
    }

    public IReadOnlyList<LedgerEntry> Ledger()
    {
        lock (_gate)
            return Query("SELECT at, device_id, round, topic, bytes, outcome, reason FROM ledger ORDER BY id", r =>
                new LedgerEntry(DateTimeOffset.Parse(r.GetString(0), System.Globalization.CultureInfo.InvariantCulture), r.GetString(1),
                    r.IsDBNull(2) ? null : r.GetInt32(2), r.GetString(3), r.GetInt64(4), r.GetString(5), r.GetString(6)));
    }

    public long AppendUnlearningAudit(string deviceId, string method, string requestedBy, string metricsJson, DateTimeOffset at)
    {
        lock (_gate)
        {
            Execute("INSERT INTO unlearning_audit(at, device_id, method, requested_by, metrics_json) VALUES ($t, $d, $m, $u, $j)",
                ("$t", at.ToString("O")), ("$d", deviceId), ("$m", method), ("$u", requestedBy), ("$j", metricsJson));
            return Query("SELECT last_insert_rowid()", r => r.GetInt64(0))[0];
        }
    }

    public IReadOnlyList<UnlearningAuditRecord> UnlearningAudit()
    {
        lock (_gate)
            return Query("SELECT id, at, device_id, method, requested_by, metrics_json FROM unlearning_audit ORDER BY id", r =>
                new UnlearningAuditRecord(r.GetInt64(0), DateTimeOffset.Parse(r.GetString(1), System.Globalization.CultureInfo.InvariantCulture),
                    r.GetString(2), r.GetString(3), r.GetString(4), r.GetString(5)));
    }

    public void Dispose() => _connection.Dispose();

    private int Execute(string sql, params (string Name, object Value)[] parameters)
    {
        using var command = Command(sql, parameters);
        return command.ExecuteNonQuery();
    }

    private List<T> Query<T>(string sql, Func<SqliteDataReader, T> map, params (string Name, object Value)[] parameters)
    {
        using var command = Command(sql, parameters);
        using var reader = command.ExecuteReader();
        var rows = new List<T>();
        while (reader.Read()) rows.Add(map(reader));
        return rows;
    }

    private SqliteCommand Command(string sql, (string Name, object Value)[] parameters)
    {
        var command = _connection.CreateCommand();
#pragma warning disable CA2100 // SQL text is a constant of this class; values always travel as parameters.
        command.CommandText = sql;
#pragma warning restore CA2100
        foreach (var (name, value) in parameters) command.Parameters.AddWithValue(name, value);
        return command;
    }
}
