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
            await ScriptedDevice.StartAsync(gateway, GatewayHarness.Hello("jetson-1", "jetson-orin-nano", DeviceTier.H, 16, Precision.Fp32, Precision.Fp16, Precision.Int8)),
            await ScriptedDevice.StartAsync(gateway, GatewayHarness.Hello("pi-1", "raspberry-pi-4", DeviceTier.M, 8, Precision.Fp32, Precision.Fp16, Precision.Int8)),
            await ScriptedDevice.StartAsync(gateway, GatewayHarness.Hello("esp-1", "esp32-wrover", DeviceTier.L, 4, Precision.Int8)),
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
        var good = await ScriptedDevice.StartAsync(gateway, GatewayHarness.Hello("pi-1", "raspberry-pi-4", DeviceTier.M, 8, Precision.Fp16));
        var corrupt = await ScriptedDevice.StartAsync(gateway, GatewayHarness.Hello("pi-2", "raspberry-pi-4", DeviceTier.M, 8, Precision.Fp16), corruptUpdates: true);
        var vanishing = await ScriptedDevice.StartAsync(gateway, GatewayHarness.Hello("pi-3", "raspberry-pi-4", DeviceTier.M, 8, Precision.Fp16), vanishOnAssignment: true);
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
        var device = await ScriptedDevice.StartAsync(gateway, GatewayHarness.Hello("pi-1", "raspberry-pi-4", DeviceTier.M, 8, Precision.Fp16), replayAndResend: true);
        await WaitForDevicesAsync(gateway.Get<DeviceRegistry>(), 1);

        var outcome = await gateway.Get<TrainingCoordinator>().RunRoundAsync(new FedFtHStrategy(), "fedft_h").WaitAsync(Wait);

        Assert.True(outcome.Aggregated, outcome.Summary);
        Assert.Equal(["pi-1"], outcome.Replies.Select(r => r.DeviceId));
        using var timeout = new CancellationTokenSource(Wait);
        var replayed = await device.AllRejections.Reader.ReadAsync(timeout.Token);
        var duplicate = await device.AllRejections.Reader.ReadAsync(timeout.Token);
        Assert.Equal(RejectionReason.Replayed, replayed.Reason);
        Assert.Contains($"nonce '{device.Nonces[0]}'", replayed.Detail, StringComparison.Ordinal);
        Assert.Equal(RejectionReason.Duplicate, duplicate.Reason);
        Assert.Contains("the first one counts", duplicate.Detail, StringComparison.Ordinal);
        Assert.All([replayed, duplicate], r => Assert.Equal(outcome.Round, r.Round));

        var refusals = new List<string>();
        while (refusals.Count < 2)
        {
            var next = await events.Reader.ReadAsync(timeout.Token);
            if (next.Kind == GatewayEventKind.MessageRejected && next.DeviceId == "pi-1") refusals.Add(next.Detail!);
        }

        Assert.Contains(refusals, d => d.StartsWith("edgelam/v1/devices/pi-1/update: replayed: ", StringComparison.Ordinal));
        Assert.Contains(refusals, d => d.StartsWith("edgelam/v1/devices/pi-1/update: duplicate: ", StringComparison.Ordinal));
        var totals = gateway.Get<GatewayStore>().LedgerTotals();
        Assert.Equal(1, totals["accepted"]);
        Assert.Equal(2, totals["rejected"]);
        await device.DisposeAsync();
    }

    private static async Task WaitForDevicesAsync(DeviceRegistry registry, int count)
    {
        var all = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        registry.DeviceOnline += _ => { if (registry.OnlineDevices.Count >= count) all.TrySetResult(); };
        if (registry.OnlineDevices.Count >= count) return;
        await all.Task.WaitAsync(Wait);
    }

    /// <summary>A device that answers each assignment with random LoRA factors of the assigned shape and precision.</summary>
    private sealed class ScriptedDevice : IAsyncDisposable
    {
        private readonly IMqttClient _client;
        private readonly DeviceHello _hello;
        private readonly bool _corrupt;
        private readonly bool _vanish;
        private readonly bool _replayAndResend;
        private long _uploaded;

        private ScriptedDevice(IMqttClient client, DeviceHello hello, bool corrupt, bool vanish, bool replayAndResend)
        {
            _client = client;
            _hello = hello;
            _corrupt = corrupt;
            _vanish = vanish;
            _replayAndResend = replayAndResend;
        }

        /// <summary>Every rejection in arrival order.</summary>
        public System.Threading.Channels.Channel<Rejection> AllRejections { get; } = System.Threading.Channels.Channel.CreateUnbounded<Rejection>();

        /// <summary>Nonces of the updates sent, in order.</summary>
        public ConcurrentQueue<string> NonceLog { get; } = new();

        public string[] Nonces => [.. NonceLog];

        public ConcurrentQueue<TrainingAssignment> Assignments { get; } = new();
        public ConcurrentQueue<AdapterHeader> Adapters { get; } = new();
        public TaskCompletionSource<Rejection> Rejections { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public long UploadedBytes => Interlocked.Read(ref _uploaded);

        /// <summary>With <paramref name="replayAndResend"/> the device sends its update, the same bytes again, then a second update with a new nonce.</summary>
        public static async Task<ScriptedDevice> StartAsync(GatewayHarness gateway, DeviceHello hello, bool corruptUpdates = false, bool vanishOnAssignment = false,
            bool replayAndResend = false)
        {
            var client = await gateway.ConnectDeviceAsync(hello.DeviceId);
            var device = new ScriptedDevice(client, hello, corruptUpdates, vanishOnAssignment, replayAndResend);
            client.ApplicationMessageReceivedAsync += device.OnMessageAsync;
            await client.SubscribeAsync(new MqttClientSubscribeOptionsBuilder().WithTopicFilter(Topics.DeviceSubtree(hello.DeviceId)).Build());
            await GatewayHarness.PublishAsync(client, Topics.Device(hello.DeviceId, DeviceTopic.Hello), WireMessages.Encode(hello));
            return device;
        }

        private async Task OnMessageAsync(MqttApplicationMessageReceivedEventArgs e)
        {
            var payload = e.ApplicationMessage.Payload.ToArray();
            if (!Topics.TryParseDevice(e.ApplicationMessage.Topic, out _, out var leaf)) return;
            switch (leaf)
            {
                case DeviceTopic.Adapter:
                    Adapters.Enqueue(MessageBundle<AdapterHeader>.Decode(payload).Header);
                    break;
                case DeviceTopic.Rejected:
                    Rejections.TrySetResult(WireMessages.Decode<Rejection>(payload));
                    AllRejections.Writer.TryWrite(WireMessages.Decode<Rejection>(payload));
                    break;
                case DeviceTopic.Assign:
                    var assignment = WireMessages.Decode<TrainingAssignment>(payload);
                    Assignments.Enqueue(assignment);
                    if (_vanish)
                    {
                        // Drop the connection without DISCONNECT so the broker publishes the last will.
                        _client.Dispose();
                        return;
                    }

                    var nonce = Guid.NewGuid().ToString("N");
                    NonceLog.Enqueue(nonce);
                    var update = Update(assignment, nonce);
                    if (_corrupt) update[^1] ^= 0xFF;
                    Interlocked.Add(ref _uploaded, update.Length);
                    var topic = Topics.Device(_hello.DeviceId, DeviceTopic.Update);
                    if (!_replayAndResend)
                    {
                        _ = Task.Run(() => GatewayHarness.PublishAsync(_client, topic, update));
                        break;
                    }

                    var resentNonce = Guid.NewGuid().ToString("N");
                    NonceLog.Enqueue(resentNonce);
                    _ = Task.Run(async () =>
                    {
                        await GatewayHarness.PublishAsync(_client, topic, update);
                        await GatewayHarness.PublishAsync(_client, topic, update);
                        await GatewayHarness.PublishAsync(_client, topic, Update(assignment, resentNonce));
                    });
                    break;
            }
        }

        private static byte[] Update(TrainingAssignment assignment, string nonce)
        {
            var random = new Random(assignment.Round * 31 + assignment.Rank);
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
                SampleCount = 100,
                LocalSteps = assignment.LocalSteps,
                TrainingLoss = 1.5,
                BaseModelId = "tinyvit-base",
                Nonce = nonce,
            };
            return MessageBundle<LoraUpdateHeader>.Create(header, frames).Encode();
        }

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

        public async ValueTask DisposeAsync()
        {
            if (_client.IsConnected) await _client.DisconnectAsync();
            _client.Dispose();
        }
    }
}
