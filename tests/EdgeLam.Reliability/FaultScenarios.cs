using System.Diagnostics;
using EdgeLam.Contracts.Messages;
using EdgeLam.Contracts.Wire;
using EdgeLam.Gateway.Fleet;
using EdgeLam.Gateway.Persistence;
using EdgeLam.Gateway.Training.Frames;
using EdgeLam.Gateway.Training.Rounds;
using EdgeLam.Gateway.Training.Strategies;
using EdgeLam.Tests.Shared;

namespace EdgeLam.Reliability;

/// <summary>Durations of the fault scenarios: the benchmark drops a link for 30 s, the tests for a few seconds.</summary>
public sealed record FaultScenarioOptions
{
    public TimeSpan LinkDrop { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long the slow device of a scenario trains, so the fault lands while its update is outstanding.</summary>
    public double SlowTrainingSeconds { get; init; } = 3;

    public int MalformedMessages { get; init; } = 200;

    public Action<string> Log { get; init; } = _ => { };
}

/// <summary>
/// Scripted faults against a real gateway (embedded MQTTnet broker or Mosquitto) with real agents. Each ends with the
/// round completed or explicitly failed and the update ledger balanced: published = accepted + rejected.
/// </summary>
public static class FaultScenarios
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    public static IReadOnlyList<Func<FaultScenarioOptions, Task<ScenarioResult>>> All { get; } =
        [DeviceCrashMidUploadAsync, MalformedFloodAsync, GatewayKilledMidRoundAsync, GatewayProcessKilledMidRoundAsync, MosquittoRestartAsync, LinkDropAsync, DatabaseFullAsync, DatabaseReadOnlyAsync, ReplayAfterRestartAsync];

    /// <summary>A device drops its connection halfway through the PUBLISH of its update; the round completes without it after the offline grace.</summary>
    public static async Task<ScenarioResult> DeviceCrashMidUploadAsync(FaultScenarioOptions options)
    {
        var clock = Stopwatch.StartNew();
        await using var gateway = await GatewayUnderTest.StartAsync(["pi-1", "pi-2", "pi-crash"], new Dictionary<string, string?> { ["Training:OfflineGrace"] = "00:00:01" }).ConfigureAwait(false);
        await using var agents = new FleetAgents();
        await agents.StartAsync("pi-1", gateway.Port).ConfigureAwait(false);
        await agents.StartAsync("pi-2", gateway.Port).ConfigureAwait(false);
        await using var crasher = await ScriptedDevice.ConnectAsync("pi-crash", gateway.Port).ConfigureAwait(false);
        await WaitOnlineAsync(gateway, 3).ConfigureAwait(false);

        var round = gateway.StartRound();
        var assignment = await crasher.Assigned.WaitAsync(Patience).ConfigureAwait(false);
        await crasher.CrashMidUploadAsync(gateway.Port, UpdateFor(assignment), 0.5).ConfigureAwait(false);
        var outcome = await round.WaitAsync(Patience).ConfigureAwait(false);
        var books = await UpdateBooks.SettleAsync(() => agents.UpdatesPublished + crasher.UpdatesPublished, gateway.Ledger, TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        return Result("device crashes mid-upload", clock, outcome, books,
            ("the round aggregated the two healthy devices", outcome.Aggregated && Replied(outcome, "pi-1", "pi-2")),
            ("the crashed device is a failure with a reason", outcome.Failures.Any(f => f.DeviceId == "pi-crash")),
            ("its half upload never counts", crasher.UpdatesPublished == 0 && outcome.Replies.All(r => r.DeviceId != "pi-crash")));
    }

    /// <summary>A device floods malformed updates and heartbeats; each is rejected with the codec's reason while the round completes.</summary>
    public static async Task<ScenarioResult> MalformedFloodAsync(FaultScenarioOptions options)
    {
        var clock = Stopwatch.StartNew();
        await using var gateway = await GatewayUnderTest.StartAsync(["pi-1", "pi-2", "pi-flood"]).ConfigureAwait(false);
        await using var agents = new FleetAgents();
        await agents.StartAsync("pi-1", gateway.Port).ConfigureAwait(false);
        await agents.StartAsync("pi-2", gateway.Port).ConfigureAwait(false);
        await using var flooder = await ScriptedDevice.ConnectAsync("pi-flood", gateway.Port).ConfigureAwait(false);
        await WaitOnlineAsync(gateway, 3).ConfigureAwait(false);

        var round = gateway.StartRound();
        var assignment = await flooder.Assigned.WaitAsync(Patience).ConfigureAwait(false);
        var valid = UpdateFor(assignment);
        for (var i = 0; i < options.MalformedMessages; i++)
        {
            await flooder.PublishAsync(DeviceTopic.Update, Malformed(valid, i)).ConfigureAwait(false);
            await flooder.PublishAsync(DeviceTopic.Heartbeat, "{\"sequence\": oops"u8.ToArray()).ConfigureAwait(false);
        }

        var outcome = await round.WaitAsync(Patience).ConfigureAwait(false);
        var expected = 2L * options.MalformedMessages;
        await WaitUntilAsync(() => flooder.RejectionsReceived >= expected, TimeSpan.FromSeconds(30)).ConfigureAwait(false);
        var books = await UpdateBooks.SettleAsync(() => agents.UpdatesPublished + flooder.UpdatesPublished, gateway.Ledger, TimeSpan.FromSeconds(10)).ConfigureAwait(false);
        var registry = gateway.Get<DeviceRegistry>();
        return Result("device floods malformed messages", clock, outcome, books,
            ("the round aggregated the two healthy devices", outcome.Aggregated && Replied(outcome, "pi-1", "pi-2")),
            ($"every malformed message was answered with a rejection ({flooder.RejectionsReceived} of {expected})", flooder.RejectionsReceived >= expected),
            ("every malformed update is in the ledger as rejected", books.Rejected >= flooder.UpdatesPublished && flooder.UpdatesPublished == options.MalformedMessages),
            ("the healthy devices are still online", registry.OnlineDevices.Count(d => d.DeviceId is "pi-1" or "pi-2") == 2));
    }

    /// <summary>The gateway dies mid-round with two updates accepted, restarts on the same database and completes the round with all three.</summary>
    public static async Task<ScenarioResult> GatewayKilledMidRoundAsync(FaultScenarioOptions options)
    {
        var clock = Stopwatch.StartNew();
        await using var fleet = await SlowDeviceFleet.StartAsync(options).ConfigureAwait(false);
        var (gateway, agents) = (fleet.Gateway, fleet.Agents);

        var round = await fleet.StartRoundUntilFastUpdatesAcceptedAsync().ConfigureAwait(false);
        var acceptedBeforeKill = gateway.Get<GatewayStore>().AcceptedUpdates(1).Select(u => u.DeviceId).ToArray();
        await gateway.KillAsync(round).ConfigureAwait(false);
        options.Log($"gateway killed with {acceptedBeforeKill.Length} updates accepted ({string.Join(", ", acceptedBeforeKill)})");
        await gateway.RestartAsync().ConfigureAwait(false);
        var resumed = gateway.Coordinator.ResumedRound ?? throw new InvalidOperationException("the restarted gateway did not resume round 1");
        var outcome = await resumed.WaitAsync(Patience).ConfigureAwait(false);
        var books = await UpdateBooks.SettleAsync(() => agents.UpdatesPublished, gateway.Ledger, TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        var stored = gateway.Get<GatewayStore>().Contributions().Where(c => c.Round == outcome.Round).Select(c => c.DeviceId).ToArray();
        return Result("gateway killed mid-round and restarted", clock, outcome, books,
            ("two updates were accepted before the kill", acceptedBeforeKill.Length >= 2),
            ("the resumed round is round 1 and aggregated all three devices", outcome.Round == 1 && outcome.Aggregated && Replied(outcome, "pi-1", "pi-2", "pi-slow")),
            ("every update accepted before the kill is a stored contribution", acceptedBeforeKill.All(stored.Contains)));
    }

    /// <summary>
    /// `edgelam gateway` runs as its own process and gets SIGKILL mid-round with two updates accepted; started again
    /// on the same database, it resumes the round and completes it with all three devices.
    /// </summary>
    public static async Task<ScenarioResult> GatewayProcessKilledMidRoundAsync(FaultScenarioOptions options)
    {
        var clock = Stopwatch.StartNew();
        var settings = new Dictionary<string, string?>(GatewayTestHost.SmallModel);
        foreach (var (key, value) in GatewayUnderTest.ReliabilityRounds) settings[key] = value;
        await using var gateway = GatewayProcess.Create(SlowDeviceFleet.DeviceIds, settings);
        await gateway.StartAsync().ConfigureAwait(false);
        await using var agents = new FleetAgents();
        await agents.StartAsync("pi-1", gateway.BrokerPort).ConfigureAwait(false);
        await agents.StartAsync("pi-2", gateway.BrokerPort).ConfigureAwait(false);
        await agents.StartAsync("pi-slow", gateway.BrokerPort, options.SlowTrainingSeconds, gateway.Directory).ConfigureAwait(false);
        await WaitUntilAsync(() => gateway.OnlineDevicesAsync().GetAwaiter().GetResult() >= 3, Patience).ConfigureAwait(false);

        var round = await gateway.StartRoundAsync(FedFtHStrategy.StrategyName).ConfigureAwait(false);
        // Watched through the API: the database is opened here only once the process is gone.
        await WaitUntilAsync(() => gateway.AcceptedUpdatesAsync().GetAwaiter().GetResult() >= 2, Patience).ConfigureAwait(false);
        await gateway.KillAsync().ConfigureAwait(false);
        string[] acceptedBeforeKill;
        using (var killed = new GatewayStore(gateway.DatabasePath))
            acceptedBeforeKill = killed.AcceptedUpdates(round).Select(u => u.DeviceId).ToArray();
        options.Log($"gateway process killed (SIGKILL) with {acceptedBeforeKill.Length} updates accepted ({string.Join(", ", acceptedBeforeKill)})");

        await gateway.StartAsync().ConfigureAwait(false);
        string? state = null;
        await WaitUntilAsync(() => (state = gateway.RoundStateAsync(round).GetAwaiter().GetResult()) is "completed" or "failed", Patience).ConfigureAwait(false);
        await gateway.KillAsync().ConfigureAwait(false);

        using var store = new GatewayStore(gateway.DatabasePath);
        var stored = store.Contributions().Where(c => c.Round == round).Select(c => c.DeviceId).ToArray();
        var books = UpdateBooks.Of(agents.UpdatesPublished, new UpdateLedger(store, Microsoft.Extensions.Logging.Abstractions.NullLogger<UpdateLedger>.Instance).Summarize());
        (string Check, bool Passed) balanced = ($"ledger balanced: published {books.Published} = accepted {books.Accepted} + rejected {books.Rejected}", books.Lost == 0);
        var checks = new[]
        {
            ("two updates were accepted before the kill", acceptedBeforeKill.Length >= 2),
            ($"the restarted process completed round {round} (state {state ?? "none"})", state == "completed"),
            ("the round's contributions are all three devices", SlowDeviceFleet.DeviceIds.All(stored.Contains)),
            ("every update accepted before the kill is a stored contribution", acceptedBeforeKill.All(stored.Contains)),
            balanced,
        };
        return new ScenarioResult("gateway process SIGKILLed mid-round and restarted", checks.All(c => c.Item2), state == "completed",
            $"round {round} {state ?? "not finished"} with {stored.Length} contributions", books, clock.Elapsed.TotalSeconds,
            checks.Select(c => (c.Item2 ? "ok: " : "FAILED: ") + c.Item1).ToArray());
    }

    /// <summary>The external Mosquitto broker is SIGKILLed and restarted mid-round; gateway and devices reconnect and the round completes.</summary>
    public static async Task<ScenarioResult> MosquittoRestartAsync(FaultScenarioOptions options)
    {
        var clock = Stopwatch.StartNew();
        MosquittoProcess? mosquitto = null;
        try
        {
            await using var fleet = await SlowDeviceFleet.StartAsync(options, prepare: async (directory, credentials) =>
            {
                mosquitto = await MosquittoProcess.StartAsync(directory, credentials.Records).ConfigureAwait(false);
                return new Dictionary<string, string?> { ["Broker:Mode"] = "External", ["Broker:Port"] = mosquitto.Port.ToString(System.Globalization.CultureInfo.InvariantCulture) };
            }).ConfigureAwait(false);
            var (gateway, agents) = (fleet.Gateway, fleet.Agents);

            // The broker dies while the slow device still trains: a copy that a non-persistent broker acknowledged and then
            // lost in its crash would show in the ledger as lost (and come back through the re-sent assignment).
            var round = await fleet.StartRoundUntilFastUpdatesAcceptedAsync().ConfigureAwait(false);
            await mosquitto!.RestartAsync(TimeSpan.FromMilliseconds(500)).ConfigureAwait(false);
            var outcome = await round.WaitAsync(Patience).ConfigureAwait(false);
            var books = await UpdateBooks.SettleAsync(() => agents.UpdatesPublished, gateway.Ledger, TimeSpan.FromSeconds(5)).ConfigureAwait(false);
            return Result("external Mosquitto restarts mid-round", clock, outcome, books,
                ("the round aggregated all three devices", outcome.Aggregated && Replied(outcome, "pi-1", "pi-2", "pi-slow")),
                ("every agent reconnected", agents.Agents.All(a => a.Agent.Connection.ConnectCount >= 2)));
        }
        finally
        {
            if (mosquitto is not null) await mosquitto.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>One device's link drops for <see cref="FaultScenarioOptions.LinkDrop"/> mid-round; it comes back within the grace and its update counts.</summary>
    public static async Task<ScenarioResult> LinkDropAsync(FaultScenarioOptions options)
    {
        var clock = Stopwatch.StartNew();
        var grace = options.LinkDrop + TimeSpan.FromSeconds(20);
        await using var gateway = await GatewayUnderTest.StartAsync(["pi-1", "pi-2", "pi-away"], new Dictionary<string, string?>
        {
            ["Training:OfflineGrace"] = grace.ToString("c"),
            ["Training:RoundTimeout"] = (grace + TimeSpan.FromSeconds(20)).ToString("c"),
        }).ConfigureAwait(false);
        await using var link = new LinkProxy(gateway.Port);
        await using var agents = new FleetAgents();
        await agents.StartAsync("pi-1", gateway.Port).ConfigureAwait(false);
        await agents.StartAsync("pi-2", gateway.Port).ConfigureAwait(false);
        var away = await agents.StartAsync("pi-away", link.Port, options.SlowTrainingSeconds / 2, gateway.Directory).ConfigureAwait(false);
        await WaitOnlineAsync(gateway, 3).ConfigureAwait(false);

        var round = gateway.StartRound();
        // The link goes down once the round has chosen its devices, so the device is assigned and then away.
        await WaitUntilAsync(() => gateway.Coordinator.IsRoundRunning, Patience).ConfigureAwait(false);
        link.Drop(options.LinkDrop);
        var outcome = await round.WaitAsync(grace + Patience).ConfigureAwait(false);
        var books = await UpdateBooks.SettleAsync(() => agents.UpdatesPublished, gateway.Ledger, TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        return Result($"device link drops for {options.LinkDrop.TotalSeconds:0.#} s", clock, outcome, books,
            ("the round aggregated all three devices", outcome.Aggregated && Replied(outcome, "pi-1", "pi-2", "pi-away")),
            ("the device lost its link and reconnected", away.Agent.Connection.ConnectCount >= 2),
            ($"the round waited out the outage ({outcome.Duration.TotalSeconds:0.#} s)", outcome.Duration >= options.LinkDrop));
    }

    /// <summary>
    /// The disk fills mid-round (SQLite max_page_count at the current size, so writes fail with SQLITE_FULL): the next
    /// update is rejected as storage-unavailable, the round's outcome cannot be stored within the retry and the round is
    /// explicitly failed, leaving the global model at what is on disk. Then space is freed and the next round completes.
    /// </summary>
    public static async Task<ScenarioResult> DatabaseFullAsync(FaultScenarioOptions options)
    {
        var clock = Stopwatch.StartNew();
        await using var fleet = await SlowDeviceFleet.StartAsync(options, new Dictionary<string, string?> { ["Training:StorageRetry"] = "00:00:01" }).ConfigureAwait(false);
        var (gateway, agents) = (fleet.Gateway, fleet.Agents);

        var round = await fleet.StartRoundUntilFastUpdatesAcceptedAsync().ConfigureAwait(false);
        var store = gateway.Get<GatewayStore>();
        store.CapSize(store.SizeBytes());
        var outcome = await round.WaitAsync(Patience).ConfigureAwait(false);
        var storedRound = store.Rounds().Single(r => r.Round == outcome.Round);
        var contributionsWhileFull = store.Contributions().Count;
        var globalWhileFull = gateway.Coordinator.Global.AggregatedRounds;

        store.RemoveSizeCap();
        var next = await gateway.StartRound().WaitAsync(Patience).ConfigureAwait(false);
        var books = await UpdateBooks.SettleAsync(() => agents.UpdatesPublished, gateway.Ledger, TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        return Result("database full mid-round, then space freed", clock, outcome, books,
            ("the round is explicitly failed, naming the database", !outcome.Aggregated && outcome.Summary.Contains("database", StringComparison.Ordinal)),
            ("the update that could not be stored was rejected as storage-unavailable", books.RejectionReasons.ContainsKey("storage-unavailable")),
            ("nothing is claimed: no contribution stored, the round is not completed", contributionsWhileFull == 0 && storedRound.State != "completed"),
            ("the global model did not move while the disk was full", globalWhileFull == 0),
            ("the updates accepted before the disk filled are still in the database", store.AcceptedUpdates(outcome.Round).Count >= 2),
            ($"with space freed the next round aggregated all three devices ({next.Summary})", next.Aggregated && Replied(next, "pi-1", "pi-2", "pi-slow")));
    }

    /// <summary>
    /// The database turns read-only mid-round (SQLite query_only on the gateway's connection, so writes fail with
    /// SQLITE_READONLY as on a file or volume remounted read-only): the next update is rejected as storage-unavailable and
    /// the closing round waits for storage; once writes work again the round completes with every update it accepted,
    /// and the ledger line kept in memory meanwhile is written.
    /// </summary>
    public static async Task<ScenarioResult> DatabaseReadOnlyAsync(FaultScenarioOptions options)
    {
        var clock = Stopwatch.StartNew();
        await using var fleet = await SlowDeviceFleet.StartAsync(options, new Dictionary<string, string?> { ["Training:StorageRetry"] = "00:00:30" }).ConfigureAwait(false);
        var (gateway, agents) = (fleet.Gateway, fleet.Agents);

        var round = await fleet.StartRoundUntilFastUpdatesAcceptedAsync().ConfigureAwait(false);
        var store = gateway.Get<GatewayStore>();
        var acceptedBefore = store.AcceptedUpdates(1).Select(u => u.DeviceId).ToArray();
        store.RefuseWrites(true);
        await WaitUntilAsync(() => gateway.Coordinator.IsWaitingForStorage, Patience).ConfigureAwait(false);
        var unpersistedWhileReadOnly = gateway.Ledger.Unpersisted.Count;
        options.Log($"database read-only; round waiting for storage with {unpersistedWhileReadOnly} ledger lines in memory");
        store.RefuseWrites(false);
        var outcome = await round.WaitAsync(Patience).ConfigureAwait(false);
        var books = await UpdateBooks.SettleAsync(() => agents.UpdatesPublished, gateway.Ledger, TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        var stored = store.Contributions().Where(c => c.Round == outcome.Round).Select(c => c.DeviceId).ToArray();
        return Result("database read-only mid-round, then writable", clock, outcome, books,
            ("the update that arrived while read-only was rejected as storage-unavailable", books.RejectionReasons.ContainsKey("storage-unavailable")),
            ("the round aggregated the two updates accepted before", outcome.Aggregated && Replied(outcome, acceptedBefore)),
            ("every accepted update is a stored contribution", acceptedBefore.Length >= 2 && acceptedBefore.All(stored.Contains)),
            ($"the ledger lines kept in memory ({unpersistedWhileReadOnly}) were written once storage was back", unpersistedWhileReadOnly >= 1 && books.Unpersisted == 0),
            ("the round is stored as completed", store.Rounds().Single(r => r.Round == outcome.Round).State == "completed"));
    }

    /// <summary>
    /// A captured update is replayed after the gateway restarted: the (round, device, nonce) set is read back from the
    /// database, so the copy is refused as replayed, not taken for a new update.
    /// </summary>
    public static async Task<ScenarioResult> ReplayAfterRestartAsync(FaultScenarioOptions options)
    {
        var clock = Stopwatch.StartNew();
        await using var gateway = await GatewayUnderTest.StartAsync(["pi-1"]).ConfigureAwait(false);
        long published = 0;
        var device = await ScriptedDevice.ConnectAsync("pi-1", gateway.Port).ConfigureAwait(false);
        await WaitOnlineAsync(gateway, 1).ConfigureAwait(false);
        var round = gateway.StartRound();
        var update = UpdateFor(await device.Assigned.WaitAsync(Patience).ConfigureAwait(false), nonce: "captured-update-0001");
        await device.PublishAsync(DeviceTopic.Update, update).ConfigureAwait(false);
        var outcome = await round.WaitAsync(Patience).ConfigureAwait(false);
        published += device.UpdatesPublished;
        await device.DisposeAsync().ConfigureAwait(false);

        await gateway.KillAsync().ConfigureAwait(false);
        await gateway.RestartAsync().ConfigureAwait(false);
        await using var replayer = await ScriptedDevice.ConnectAsync("pi-1", gateway.Port).ConfigureAwait(false);
        await replayer.PublishAsync(DeviceTopic.Update, update).ConfigureAwait(false);
        await WaitUntilAsync(() => replayer.RejectionsReceived >= 1, Patience).ConfigureAwait(false);
        var books = await UpdateBooks.SettleAsync(() => published + replayer.UpdatesPublished, gateway.Ledger, TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        options.Log($"replay after restart: {string.Join(", ", books.RejectionReasons.Select(r => $"{r.Key} {r.Value}"))}");
        return Result("update replayed after a gateway restart", clock, outcome, books,
            ("the original update was accepted and aggregated", outcome.Aggregated && books.Accepted == 1),
            ("the replay after the restart was refused as replayed", books.RejectionReasons.GetValueOrDefault("replayed") == 1 && books.Rejected == 1),
            ("the restarted gateway still counts one contribution for the round", gateway.Get<GatewayStore>().Contributions().Count(c => c.Round == outcome.Round) == 1));
    }

    private static ScenarioResult Result(string name, Stopwatch clock, RoundOutcome outcome, UpdateBooks books, params (string Check, bool Passed)[] checks)
    {
        (string Check, bool Passed) balanced = ($"ledger balanced: published {books.Published} = accepted {books.Accepted} + rejected {books.Rejected}", books.Lost == 0);
        var all = checks.Append(balanced).ToArray();
        return new ScenarioResult(name, all.All(c => c.Passed), outcome.Aggregated, outcome.Summary, books, clock.Elapsed.TotalSeconds,
            all.Select(c => (c.Passed ? "ok: " : "FAILED: ") + c.Check).ToArray());
    }

    private static bool Replied(RoundOutcome outcome, params string[] devices) => devices.All(d => outcome.Replies.Any(r => r.DeviceId == d));

    private static Task WaitOnlineAsync(GatewayUnderTest gateway, int count) =>
        WaitUntilAsync(() => gateway.Get<DeviceRegistry>().OnlineDevices.Count >= count, Patience);

    internal static async Task WaitUntilAsync(Func<bool> condition, TimeSpan within)
    {
        var deadline = DateTime.UtcNow + within;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"condition not reached within {within.TotalSeconds:0} s");
            await Task.Delay(50).ConfigureAwait(false);
        }
    }

    /// <summary>Malformed variants of a valid update: random bytes, a truncated bundle, a flipped checksum byte.</summary>
    private static byte[] Malformed(byte[] valid, int index) => (index % 3) switch
    {
        0 => [.. Enumerable.Range(0, 64 + index).Select(i => (byte)(i * 37 + index))],
        1 => valid[..(valid.Length / 2)],
        _ => [.. valid[..^1], (byte)(valid[^1] ^ 0xFF)],
    };

    /// <summary>A real LoRA update bundle of the assigned shape and precision (the gateway under test's 16-wide, 2-layer model).</summary>
    private static byte[] UpdateFor(TrainingAssignment assignment, string? nonce = null)
    {
        var random = new Random(assignment.Round);
        var frames = new List<KeyValuePair<string, TensorFrame>>();
        foreach (var layer in assignment.Layers)
        {
            foreach (var (kind, input, output) in new[] { ("q", 16, 16), ("k", 16, 16), ("v", 16, 16), ("o", 16, 16), ("fc1", 16, 32), ("fc2", 32, 16) })
            {
                frames.Add(new(LoraFrameName.Of(layer, kind, true), Frame(random, assignment.Rank * input, [assignment.Rank, input], assignment.Precision)));
                frames.Add(new(LoraFrameName.Of(layer, kind, false), Frame(random, output * assignment.Rank, [output, assignment.Rank], assignment.Precision)));
            }
        }

        var header = new LoraUpdateHeader
        {
            Round = assignment.Round,
            Rank = assignment.Rank,
            Layers = assignment.Layers,
            Precision = assignment.Precision,
            SampleCount = 64,
            LocalSteps = assignment.LocalSteps,
            TrainingLoss = 1.5,
            BaseModelId = "tinyvit-base",
            Nonce = nonce,
        };
        return MessageBundle<LoraUpdateHeader>.Create(header, frames).Encode();
    }

    /// <summary>A frame in the assigned precision, as a device would send it.</summary>
    private static TensorFrame Frame(Random random, int count, int[] shape, Precision precision)
    {
        var values = new float[count];
        for (var i = 0; i < count; i++) values[i] = (float)(random.NextDouble() - 0.5) * 0.1f;
        return precision switch
        {
            Precision.Int8 => TensorFrame.QuantizePerChannel(values, shape, 0),
            Precision.Fp16 => TensorFrame.FromFloats(values, shape, TensorDataType.Float16),
            _ => TensorFrame.FromFloats(values, shape),
        };
    }
}
