using System.Diagnostics;
using EdgeLam.Contracts.Messages;
using EdgeLam.Contracts.Wire;
using EdgeLam.Gateway.Fleet;
using EdgeLam.Gateway.Persistence;
using EdgeLam.Gateway.Training.Frames;
using EdgeLam.Gateway.Training.Rounds;

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
        [DeviceCrashMidUploadAsync, MalformedFloodAsync, GatewayKilledMidRoundAsync, MosquittoRestartAsync, LinkDropAsync, DatabaseFullAsync];

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
        await using var gateway = await GatewayUnderTest.StartAsync(["pi-1", "pi-2", "pi-slow"]).ConfigureAwait(false);
        await using var agents = new FleetAgents();
        await agents.StartAsync("pi-1", gateway.Port).ConfigureAwait(false);
        await agents.StartAsync("pi-2", gateway.Port).ConfigureAwait(false);
        await agents.StartAsync("pi-slow", gateway.Port, options.SlowTrainingSeconds, gateway.Directory).ConfigureAwait(false);
        await WaitOnlineAsync(gateway, 3).ConfigureAwait(false);

        var round = gateway.StartRound();
        await WaitUntilAsync(() => gateway.Ledger.Summarize().Accepted >= 2, Patience).ConfigureAwait(false);
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

    /// <summary>The external Mosquitto broker is SIGKILLed and restarted mid-round; gateway and devices reconnect and the round completes.</summary>
    public static async Task<ScenarioResult> MosquittoRestartAsync(FaultScenarioOptions options)
    {
        var clock = Stopwatch.StartNew();
        MosquittoBroker? mosquitto = null;
        try
        {
            await using var gateway = await GatewayUnderTest.StartAsync(["pi-1", "pi-2", "pi-slow"], prepare: async (directory, credentials) =>
            {
                mosquitto = await MosquittoBroker.StartAsync(directory, credentials.Records).ConfigureAwait(false);
                return new Dictionary<string, string?> { ["Broker:Mode"] = "External", ["Broker:Port"] = mosquitto.Port.ToString(System.Globalization.CultureInfo.InvariantCulture) };
            }).ConfigureAwait(false);
            await using var agents = new FleetAgents();
            await agents.StartAsync("pi-1", gateway.Port).ConfigureAwait(false);
            await agents.StartAsync("pi-2", gateway.Port).ConfigureAwait(false);
            await agents.StartAsync("pi-slow", gateway.Port, options.SlowTrainingSeconds, gateway.Directory).ConfigureAwait(false);
            await WaitOnlineAsync(gateway, 3).ConfigureAwait(false);

            var round = gateway.StartRound();
            // The broker dies while the slow device still trains: a copy that a non-persistent broker acknowledged and then
            // lost in its crash would show in the ledger as lost (and come back through the re-sent assignment).
            await WaitUntilAsync(() => gateway.Ledger.Summarize().Accepted >= 2, Patience).ConfigureAwait(false);
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
    /// The disk fills mid-round (SQLite max_page_count at the current size): the next update is rejected as
    /// storage-unavailable, the round is explicitly failed, and the global model stays at what is on disk.
    /// </summary>
    public static async Task<ScenarioResult> DatabaseFullAsync(FaultScenarioOptions options)
    {
        var clock = Stopwatch.StartNew();
        await using var gateway = await GatewayUnderTest.StartAsync(["pi-1", "pi-2", "pi-slow"]).ConfigureAwait(false);
        await using var agents = new FleetAgents();
        await agents.StartAsync("pi-1", gateway.Port).ConfigureAwait(false);
        await agents.StartAsync("pi-2", gateway.Port).ConfigureAwait(false);
        await agents.StartAsync("pi-slow", gateway.Port, options.SlowTrainingSeconds, gateway.Directory).ConfigureAwait(false);
        await WaitOnlineAsync(gateway, 3).ConfigureAwait(false);

        var round = gateway.StartRound();
        await WaitUntilAsync(() => gateway.Ledger.Summarize().Accepted >= 2, Patience).ConfigureAwait(false);
        var store = gateway.Get<GatewayStore>();
        store.CapSize(store.SizeBytes());
        var outcome = await round.WaitAsync(Patience).ConfigureAwait(false);
        var books = await UpdateBooks.SettleAsync(() => agents.UpdatesPublished, gateway.Ledger, TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        var storedRound = store.Rounds().Single(r => r.Round == outcome.Round);
        return Result("database full mid-round", clock, outcome, books,
            ("the round is explicitly failed, naming the database", !outcome.Aggregated && outcome.Summary.Contains("database", StringComparison.Ordinal)),
            ("the update that could not be stored was rejected as storage-unavailable", books.RejectionReasons.ContainsKey("storage-unavailable")),
            ("nothing is claimed: no contribution stored, the round is not completed", store.Contributions().Count == 0 && storedRound.State != "completed"),
            ("the global model did not move", gateway.Coordinator.Global.AggregatedRounds == 0));
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

    private static async Task WaitUntilAsync(Func<bool> condition, TimeSpan within)
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

    /// <summary>A real LoRA update bundle of the assigned shape (the gateway under test's 16-wide, 2-layer model).</summary>
    private static byte[] UpdateFor(TrainingAssignment assignment)
    {
        var random = new Random(assignment.Round);
        var frames = new List<KeyValuePair<string, TensorFrame>>();
        foreach (var layer in assignment.Layers)
        {
            foreach (var (kind, input, output) in new[] { ("q", 16, 16), ("k", 16, 16), ("v", 16, 16), ("o", 16, 16), ("fc1", 16, 32), ("fc2", 32, 16) })
            {
                frames.Add(new(LoraFrameName.Of(layer, kind, true), Frame(random, assignment.Rank * input, [assignment.Rank, input])));
                frames.Add(new(LoraFrameName.Of(layer, kind, false), Frame(random, output * assignment.Rank, [output, assignment.Rank])));
            }
        }

        var header = new LoraUpdateHeader
        {
            Round = assignment.Round,
            Rank = assignment.Rank,
            Layers = assignment.Layers,
            Precision = Precision.Fp32,
            SampleCount = 64,
            LocalSteps = assignment.LocalSteps,
            TrainingLoss = 1.5,
            BaseModelId = "tinyvit-base",
        };
        return MessageBundle<LoraUpdateHeader>.Create(header, frames).Encode();
    }

    private static TensorFrame Frame(Random random, int count, int[] shape)
    {
        var values = new float[count];
        for (var i = 0; i < count; i++) values[i] = (float)(random.NextDouble() - 0.5) * 0.1f;
        return TensorFrame.FromFloats(values, shape);
    }
}
