using System.Collections.Concurrent;
using EdgeLam.Contracts.Messages;
using EdgeLam.Contracts.Wire;
using EdgeLam.Gateway.Fleet;
using EdgeLam.Gateway.Persistence;
using EdgeLam.Gateway.Training;
using EdgeLam.Gateway.Training.Rounds;
using EdgeLam.Gateway.Training.Strategies;
using System.Buffers;
using MQTTnet;

namespace EdgeLam.Gateway.Tests.Rounds;

/// <summary>Rounds over a real broker with scripted devices that answer assignments with real update bundles.</summary>
public sealed class TrainingRoundTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task A_fedft_h_round_aggregates_heterogeneous_ranks_and_precisions_and_persists_contributions()
    {
        await using var gateway = await GatewayHarness.StartAsync(["jetson-1", "pi-1", "esp-1"]);
        var devices = new[]
        {
            await ScriptedTrainingDevice.StartAsync(gateway, GatewayHarness.Hello("jetson-1", "jetson-orin-nano", DeviceTier.H, 16, Precision.Fp32, Precision.Fp16, Precision.Int8)),
            await ScriptedTrainingDevice.StartAsync(gateway, GatewayHarness.Hello("pi-1", "raspberry-pi-4", DeviceTier.M, 8, Precision.Fp32, Precision.Fp16, Precision.Int8)),
            await ScriptedTrainingDevice.StartAsync(gateway, GatewayHarness.Hello("esp-1", "esp32-wrover", DeviceTier.L, 4, Precision.Int8)),
        };
        await WaitForDevicesAsync(gateway.Get<DeviceRegistry>(), 3);

        var coordinator = gateway.Get<TrainingCoordinator>();
        var outcome = await coordinator.RunRoundAsync(new FedFtHStrategy(), "fedft_h").WaitAsync(Wait);

        Assert.True(outcome.Aggregated, outcome.Summary);
        Assert.Equal(3, outcome.Replies.Count);
        Assert.Empty(outcome.Failures);
        // Each device trained at its own rank, and the uplink bytes are the bundles' bytes as received.
        Assert.Equal(16, devices[0].Assignments.Single().Rank);
        Assert.Equal(8, devices[1].Assignments.Single().Rank);
        Assert.Equal(4, devices[2].Assignments.Single().Rank);
        Assert.Equal(Precision.Int8, devices[2].Assignments.Single().Precision);
        // The assignment carries the fleet's alpha, so device and gateway agree on the scale alpha/r.
        Assert.All(devices, d => Assert.Equal(16.0, d.Assignments.Single().LoraAlpha));
        Assert.All(devices, d => Assert.Equal(TrainingScope.Lora, d.Assignments.Single().Mode));
        Assert.Equal(devices.Sum(d => d.UploadedBytes), outcome.UplinkBytes);
        Assert.NotEmpty(coordinator.Global.Parameters.Adapters);
        var store = gateway.Get<GatewayStore>();
        Assert.Equal(3, store.Contributions().Count);
        Assert.Equal(3, store.LedgerTotals()["accepted"]);

        // Round 2 sends each device the global adapter at its own rank before the assignment.
        var second = await coordinator.RunRoundAsync(new FedFtHStrategy(), "fedft_h").WaitAsync(Wait);
        Assert.True(second.Aggregated, second.Summary);
        Assert.Equal(16, devices[0].Adapters.Last().Rank);
        Assert.Equal(4, devices[2].Adapters.Last().Rank);
        Assert.Equal(1, devices[0].Adapters.Last().Round);
        foreach (var device in devices) await device.DisposeAsync();
    }

    [Fact]
    public async Task Malformed_and_vanished_devices_fail_the_round_member_not_the_gateway()
    {
        await using var gateway = await GatewayHarness.StartAsync(["pi-1", "pi-2", "pi-3"], new() { ["Training:Quorum"] = "0.3" });
        var good = await ScriptedTrainingDevice.StartAsync(gateway, GatewayHarness.Hello("pi-1", "raspberry-pi-4", DeviceTier.M, 8, Precision.Fp16));
        var corrupt = await ScriptedTrainingDevice.StartAsync(gateway, GatewayHarness.Hello("pi-2", "raspberry-pi-4", DeviceTier.M, 8, Precision.Fp16), UpdateDefect.CorruptCrc);
        var vanishing = await ScriptedTrainingDevice.StartAsync(gateway, GatewayHarness.Hello("pi-3", "raspberry-pi-4", DeviceTier.M, 8, Precision.Fp16), vanishOnAssignment: true);
        await WaitForDevicesAsync(gateway.Get<DeviceRegistry>(), 3);

        var outcome = await gateway.Get<TrainingCoordinator>().RunRoundAsync(new FedFtHStrategy(), "fedft_h").WaitAsync(Wait);

        Assert.True(outcome.Aggregated, outcome.Summary);
        Assert.Equal(["pi-1"], outcome.Replies.Select(r => r.DeviceId));
        Assert.Contains(outcome.Failures, f => f.DeviceId == "pi-2" && f.Reason.Contains("CrcMismatch", StringComparison.Ordinal));
        Assert.Contains(outcome.Failures, f => f.DeviceId == "pi-3" && f.Reason.Contains("offline", StringComparison.Ordinal));
        var rejection = await corrupt.Rejections.Task.WaitAsync(Wait);
        Assert.Equal(RejectionReason.Malformed, rejection.Reason);
        Assert.Equal("CrcMismatch", rejection.ErrorCode);
        var totals = gateway.Get<GatewayStore>().LedgerTotals();
        Assert.Equal(1, totals["accepted"]);
        Assert.Equal(1, totals["rejected"]);
        await good.DisposeAsync();
        await corrupt.DisposeAsync();
    }

    [Fact]
    public async Task A_full_fedavg_round_trains_every_weight_on_capable_devices_and_leaves_the_esp32_out()
    {
        await using var gateway = await GatewayHarness.StartAsync(["jetson-1", "pi-1", "esp-1"]);
        var devices = new[]
        {
            await ScriptedTrainingDevice.StartAsync(gateway, GatewayHarness.Hello("jetson-1", "jetson-orin-nano", DeviceTier.H, 16, Precision.Fp32, Precision.Fp16, Precision.Int8)),
            await ScriptedTrainingDevice.StartAsync(gateway, GatewayHarness.Hello("pi-1", "raspberry-pi-4", DeviceTier.M, 8, Precision.Fp16, Precision.Int8)),
            await ScriptedTrainingDevice.StartAsync(gateway, GatewayHarness.Hello("esp-1", "esp32-wrover", DeviceTier.L, 4, Precision.Int8)),
        };
        await WaitForDevicesAsync(gateway.Get<DeviceRegistry>(), 3);
        var coordinator = gateway.Get<TrainingCoordinator>();

        var first = await coordinator.RunRoundAsync(new FullFedAvgStrategy(), "full_fedavg").WaitAsync(Wait);

        Assert.True(first.Aggregated, first.Summary);
        Assert.Equal(2, first.Assigned);
        Assert.Empty(devices[2].Assignments);
        var assignment = devices[0].Assignments.Single();
        Assert.Equal((TrainingScope.Full, 0, Precision.Fp32, (double?)null), (assignment.Mode, assignment.Rank, assignment.Precision, assignment.LoraAlpha));
        Assert.Equal(Precision.Fp16, devices[1].Assignments.Single().Precision);
        Assert.Equal(devices.Sum(d => d.UploadedBytes), first.UplinkBytes);
        var tensors = new EdgeLam.Model.Architecture.TinyVitWeights(EdgeLam.Model.Architecture.TinyVitConfig.Tiny).Tensors().ToArray();
        Assert.Equal(tensors.Select(t => t.Name).Order(), coordinator.Global.Parameters.FullWeights.Keys.Order());
        Assert.Empty(coordinator.Global.Parameters.Adapters);

        // Round 2 sends each device the global weights (mode full) before the assignment; that is downlink.
        var second = await coordinator.RunRoundAsync(new FullFedAvgStrategy(), "full_fedavg").WaitAsync(Wait);
        Assert.True(second.Aggregated, second.Summary);
        var downlink = devices[0].Adapters.Single();
        Assert.Equal((TrainingScope.Full, 1, 0), (downlink.Mode, downlink.Round, downlink.Rank));
        Assert.True(second.DownlinkBytes > first.DownlinkBytes + (2 * tensors.Sum(t => t.Values.Length * 2L)), $"{second.DownlinkBytes} vs {first.DownlinkBytes}");
        foreach (var device in devices) await device.DisposeAsync();
    }

    [Fact]
    public async Task Nan_malformed_and_oversized_updates_are_rejected_with_reasons_on_the_events_topic_while_the_round_completes()
    {
        await using var gateway = await GatewayHarness.StartAsync(["pi-1", "pi-2", "pi-3", "pi-4"], new() { ["Training:Quorum"] = "0.25" });
        var events = await EventRecorder.StartAsync(gateway);
        var good = await ScriptedTrainingDevice.StartAsync(gateway, GatewayHarness.Hello("pi-1", "raspberry-pi-4", DeviceTier.M, 8, Precision.Fp16));
        var nan = await ScriptedTrainingDevice.StartAsync(gateway, GatewayHarness.Hello("pi-2", "raspberry-pi-4", DeviceTier.M, 8, Precision.Fp32), UpdateDefect.NotANumber);
        var huge = await ScriptedTrainingDevice.StartAsync(gateway, GatewayHarness.Hello("pi-3", "raspberry-pi-4", DeviceTier.M, 8, Precision.Fp16), UpdateDefect.HugeNorm);
        var corrupt = await ScriptedTrainingDevice.StartAsync(gateway, GatewayHarness.Hello("pi-4", "raspberry-pi-4", DeviceTier.M, 8, Precision.Fp16), UpdateDefect.CorruptCrc);
        await WaitForDevicesAsync(gateway.Get<DeviceRegistry>(), 4);

        var outcome = await gateway.Get<TrainingCoordinator>().RunRoundAsync(new FedFtHStrategy(), "fedft_h").WaitAsync(Wait);

        Assert.True(outcome.Aggregated, outcome.Summary);
        Assert.Contains(outcome.Failures, f => f.DeviceId == "pi-2" && f.Reason.Contains("NonFinite", StringComparison.Ordinal));
        Assert.Contains(outcome.Failures, f => f.DeviceId == "pi-4" && f.Reason.Contains("CrcMismatch", StringComparison.Ordinal));
        Assert.Contains(outcome.Result!.Rejected, r => r.DeviceId == "pi-3" && r.Reason.Contains("exceeds the bound 100", StringComparison.Ordinal));
        Assert.Equal(("malformed", "NonFinite"), Describe(await nan.Rejections.Task.WaitAsync(Wait)));
        Assert.Equal(("invalid-update", null), Describe(await huge.Rejections.Task.WaitAsync(Wait)));
        Assert.Equal(("malformed", "CrcMismatch"), Describe(await corrupt.Rejections.Task.WaitAsync(Wait)));
        // Only the good update is kept as a contribution; every refusal is on the events topic with its reason.
        Assert.Equal(["pi-1"], gateway.Get<GatewayStore>().Contributions().Select(c => c.DeviceId));
        var rejected = await events.WaitForAsync(e => e.Kind == GatewayEventKind.MessageRejected, 3, Wait);
        Assert.Equal(["pi-2", "pi-3", "pi-4"], rejected.Select(e => e.DeviceId).Order());
        Assert.Contains(rejected, e => e.DeviceId == "pi-3" && e.Detail!.Contains("invalid-update: Device pi-3: adapter update norm", StringComparison.Ordinal));
        foreach (var device in new[] { good, nan, huge, corrupt }) await device.DisposeAsync();
        await events.DisposeAsync();
    }

    [Fact]
    public async Task A_replayed_update_and_a_second_update_in_the_same_round_are_refused_with_their_reasons()
    {
        await using var gateway = await GatewayHarness.StartAsync(["pi-1"]);
        using var observer = new MqttClientFactory().CreateMqttClient();
        await observer.ConnectAsync(new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", gateway.Port).WithClientId("observer-replay")
            .WithCredentials("gateway", "change-me-gateway").WithProtocolVersion(MQTTnet.Formatter.MqttProtocolVersion.V500).Build());
        var events = System.Threading.Channels.Channel.CreateUnbounded<GatewayEvent>();
        observer.ApplicationMessageReceivedAsync += e =>
        {
            events.Writer.TryWrite(WireMessages.Decode<GatewayEvent>(e.ApplicationMessage.Payload.ToArray()));
            return Task.CompletedTask;
        };
        await observer.SubscribeAsync(Topics.GatewayEvents);
        var device = await ScriptedTrainingDevice.StartAsync(gateway, GatewayHarness.Hello("pi-1", "raspberry-pi-4", DeviceTier.M, 8, Precision.Fp16), replayAndResend: true);
        await WaitForDevicesAsync(gateway.Get<DeviceRegistry>(), 1);

        var outcome = await gateway.Get<TrainingCoordinator>().RunRoundAsync(new FedFtHStrategy(), "fedft_h").WaitAsync(Wait);

        Assert.True(outcome.Aggregated, outcome.Summary);
        Assert.Equal(["pi-1"], outcome.Replies.Select(r => r.DeviceId));
        using var timeout = new CancellationTokenSource(Wait);
        // The gateway handles messages concurrently, and a re-sent assignment brings more copies: read until both refusals came.
        var received = new List<Rejection>();
        while (!received.Any(r => r.Reason == RejectionReason.Replayed) || !received.Any(r => r.Reason == RejectionReason.Duplicate))
            received.Add(await device.AllRejections.Reader.ReadAsync(timeout.Token));
        var replayed = received.First(r => r.Reason == RejectionReason.Replayed);
        var duplicate = received.First(r => r.Reason == RejectionReason.Duplicate);
        Assert.Contains(device.Nonces, nonce => replayed.Detail.Contains($"nonce '{nonce}'", StringComparison.Ordinal));
        Assert.Contains("the first one counts", duplicate.Detail, StringComparison.Ordinal);
        Assert.All([replayed, duplicate], r => Assert.Equal(outcome.Round, r.Round));

        var refusals = new List<string>();
        static bool Has(List<string> details, string reason) => details.Any(d => d.StartsWith($"edgelam/v1/devices/pi-1/update: {reason}: ", StringComparison.Ordinal));
        while (!Has(refusals, "replayed") || !Has(refusals, "duplicate"))
        {
            var next = await events.Reader.ReadAsync(timeout.Token);
            if (next.Kind == GatewayEventKind.MessageRejected && next.DeviceId == "pi-1") refusals.Add(next.Detail!);
        }

        Assert.Contains(refusals, d => d.StartsWith("edgelam/v1/devices/pi-1/update: replayed: ", StringComparison.Ordinal));
        Assert.Contains(refusals, d => d.StartsWith("edgelam/v1/devices/pi-1/update: duplicate: ", StringComparison.Ordinal));
        var totals = gateway.Get<GatewayStore>().LedgerTotals();
        Assert.Equal(1, totals["accepted"]);
        // Late copies (after the one-device round closed, or answers to a re-sent assignment) are refused too, never accepted.
        Assert.True(totals["rejected"] >= 2, $"{totals["rejected"]} rejected");
        await device.DisposeAsync();
    }

    [Fact]
    public async Task A_device_that_says_hello_again_while_it_trains_is_not_sent_its_assignment_again()
    {
        await using var gateway = await GatewayHarness.StartAsync(["pi-1"]);
        var registry = gateway.Get<DeviceRegistry>();
        var device = await ScriptedTrainingDevice.StartAsync(gateway, GatewayHarness.Hello("pi-1", "raspberry-pi-4", DeviceTier.M, 8, Precision.Fp16));
        device.HoldUpdates = true;
        await WaitForDevicesAsync(registry, 1);
        var coordinator = gateway.Get<TrainingCoordinator>();
        var first = coordinator.RunRoundAsync(new FedFtHStrategy(), "fedft_h");
        await device.FirstAssignment.Task.WaitAsync(Wait);

        // The coordinator handles DeviceOnline before this handler (it subscribed first), so a re-send would already be under way.
        var helloSeen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        registry.DeviceOnline += online => { if (online.DeviceId == "pi-1") helloSeen.TrySetResult(); };
        await device.SayHelloAgainAsync();
        await helloSeen.Task.WaitAsync(Wait);
        device.ReleaseUpdates();
        var outcome = await first.WaitAsync(Wait);
        Assert.True(outcome.Aggregated, outcome.Summary);

        // The next round's assignment travels the same way after any re-send of the first one.
        var second = await coordinator.RunRoundAsync(new FedFtHStrategy(), "fedft_h").WaitAsync(Wait);
        Assert.True(second.Aggregated, second.Summary);
        Assert.Equal(2, device.AssignMessages);
        await device.DisposeAsync();
    }

    [Fact]
    public async Task With_per_tier_projections_an_update_outside_the_devices_plan_is_refused_assignment_mismatch()
    {
        await using var gateway = await GatewayHarness.StartAsync(["pi-1", "pi-2", "esp-1"], new()
        {
            ["Training:Quorum"] = "0.25",
            ["Training:AdaptedProjections:0"] = "q",
            ["Training:AdaptedProjectionsByTier:L:0"] = "blocks.1.fc2",
        });
        var planned = await ScriptedTrainingDevice.StartAsync(gateway, GatewayHarness.Hello("pi-1", "raspberry-pi-4", DeviceTier.M, 8, Precision.Fp16));
        var esp32 = await ScriptedTrainingDevice.StartAsync(gateway, GatewayHarness.Hello("esp-1", "esp32-wrover", DeviceTier.L, 4, Precision.Int8));
        planned.AdaptsStartAdapterOnly = true;
        esp32.AdaptsStartAdapterOnly = true;
        // pi-2 uploads all six projections of its assigned layers, fc2 among them, though it was sent q only.
        var overreaching = await ScriptedTrainingDevice.StartAsync(gateway, GatewayHarness.Hello("pi-2", "raspberry-pi-4", DeviceTier.M, 8, Precision.Fp16));
        await WaitForDevicesAsync(gateway.Get<DeviceRegistry>(), 3);

        var coordinator = gateway.Get<TrainingCoordinator>();
        var outcome = await coordinator.RunRoundAsync(new FedFtHStrategy(), "fedft_h").WaitAsync(Wait);

        Assert.True(outcome.Aggregated, outcome.Summary);
        var rejection = await overreaching.Rejections.Task.WaitAsync(Wait);
        Assert.Equal(("assignment-mismatch", null), Describe(rejection));
        Assert.Contains("adapter blocks.0.fc1 is not among the assigned projections [blocks.0.q,blocks.1.q]", rejection.Detail, StringComparison.Ordinal);
        Assert.Contains(outcome.Failures, f => f.DeviceId == "pi-2" && f.Reason.Contains("did not match the assignment", StringComparison.Ordinal));
        Assert.Equal(["esp-1", "pi-1"], gateway.Get<GatewayStore>().Contributions().Select(c => c.DeviceId).Order(StringComparer.Ordinal));
        Assert.Equal([1], esp32.Assignments.Single().Layers);
        // The global holds what the plans allowed: q from the Pi, fc2 of the last block from the ESP32.
        Assert.Equal(["blocks.0.q", "blocks.1.fc2", "blocks.1.q"], coordinator.Global.Parameters.Adapters.Keys.Order(StringComparer.Ordinal));
        foreach (var device in new[] { planned, esp32, overreaching }) await device.DisposeAsync();
    }

    private static (string Reason, string? Code) Describe(Rejection rejection) => (WireMessages.EnumName(rejection.Reason), rejection.ErrorCode);

    private static async Task WaitForDevicesAsync(DeviceRegistry registry, int count)
    {
        var all = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        registry.DeviceOnline += _ => { if (registry.OnlineDevices.Count >= count) all.TrySetResult(); };
        if (registry.OnlineDevices.Count >= count) return;
        await all.Task.WaitAsync(Wait);
    }
}
