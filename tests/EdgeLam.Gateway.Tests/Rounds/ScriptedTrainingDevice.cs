using System.Buffers;
using System.Collections.Concurrent;
using EdgeLam.Contracts.Messages;
using EdgeLam.Contracts.Wire;
using EdgeLam.Gateway.Training;
using EdgeLam.Model.Architecture;
using MQTTnet;

namespace EdgeLam.Gateway.Tests.Rounds;

/// <summary>What is wrong with the updates a scripted device sends.</summary>
public enum UpdateDefect
{
    None,

    /// <summary>The last byte flipped: the bundle CRC no longer matches.</summary>
    CorruptCrc,

    /// <summary>A NaN in an f32 payload with every CRC recomputed, so only the value is wrong.</summary>
    NotANumber,

    /// <summary>Well-formed factors scaled up a thousandfold: finite, but far above the update norm bound.</summary>
    HugeNorm,
}

/// <summary>
/// A device that answers each assignment over MQTT with random LoRA factors or full weights of the assigned shape,
/// mode and precision (the tiny test model of <see cref="GatewayHarness"/>), optionally defective.
/// </summary>
public sealed class ScriptedTrainingDevice : IAsyncDisposable
{
    private const float Sentinel = 12345.5f;
    private static readonly TinyVitConfig Model = TinyVitConfig.Tiny;
    private readonly IMqttClient _client;
    private readonly DeviceHello _hello;
    private readonly UpdateDefect _defect;
    private readonly bool _vanish;
    private readonly bool _replayAndResend;
    private readonly TaskCompletionSource _updatesReleased = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _uploaded;
    private int _assignMessages;
    private volatile IReadOnlySet<string> _startFrames = new HashSet<string>();

    private ScriptedTrainingDevice(IMqttClient client, DeviceHello hello, UpdateDefect defect, bool vanish, bool replayAndResend)
    {
        _client = client;
        _hello = hello;
        _defect = defect;
        _vanish = vanish;
        _replayAndResend = replayAndResend;
    }

    /// <summary>
    /// True: like the agent, the device uploads only the projections its start adapter carried; false (default): every
    /// projection of the assigned layers.
    /// </summary>
    public bool AdaptsStartAdapterOnly { get; set; }

    /// <summary>Every rejection in arrival order.</summary>
    public System.Threading.Channels.Channel<Rejection> AllRejections { get; } = System.Threading.Channels.Channel.CreateUnbounded<Rejection>();

    /// <summary>Nonces of the updates sent, in order.</summary>
    public ConcurrentQueue<string> Nonces { get; } = new();

    public ConcurrentQueue<TrainingAssignment> Assignments { get; } = new();
    public ConcurrentQueue<AdapterHeader> Adapters { get; } = new();
    public TaskCompletionSource<Rejection> Rejections { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    public long UploadedBytes => Interlocked.Read(ref _uploaded);

    /// <summary>Assignment messages received, re-sent copies included.</summary>
    public int AssignMessages => Volatile.Read(ref _assignMessages);

    /// <summary>When true, updates wait for <see cref="ReleaseUpdates"/> before they are sent.</summary>
    public bool HoldUpdates { get; set; }

    /// <summary>Completes with the first assignment received.</summary>
    public TaskCompletionSource<TrainingAssignment> FirstAssignment { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public void ReleaseUpdates() => _updatesReleased.TrySetResult();

    /// <summary>Sends the hello again on the same connection, as a device does after it restarts its application.</summary>
    public Task SayHelloAgainAsync() =>
        GatewayHarness.PublishAsync(_client, Topics.Device(_hello.DeviceId, DeviceTopic.Hello), WireMessages.Encode(_hello));

    /// <summary>With <paramref name="replayAndResend"/> the device sends its update, the same bytes again, then a second update with a new nonce.</summary>
    public static async Task<ScriptedTrainingDevice> StartAsync(GatewayHarness gateway, DeviceHello hello, UpdateDefect defect = UpdateDefect.None, bool vanishOnAssignment = false,
        bool replayAndResend = false) =>
        await StartAsync(await gateway.ConnectDeviceAsync(hello.DeviceId), hello, defect, vanishOnAssignment, replayAndResend);

    /// <summary>A device on an already connected client (any broker).</summary>
    public static async Task<ScriptedTrainingDevice> StartAsync(IMqttClient client, DeviceHello hello, UpdateDefect defect = UpdateDefect.None, bool vanishOnAssignment = false,
        bool replayAndResend = false)
    {
        var device = new ScriptedTrainingDevice(client, hello, defect, vanishOnAssignment, replayAndResend);
        client.ApplicationMessageReceivedAsync += device.OnMessageAsync;
        await client.SubscribeAsync(new MqttClientSubscribeOptionsBuilder().WithTopicFilter(Topics.DeviceSubtree(hello.DeviceId)).Build());
        await GatewayHarness.PublishAsync(client, Topics.Device(hello.DeviceId, DeviceTopic.Hello), WireMessages.Encode(hello));
        return device;
    }

    private Task OnMessageAsync(MqttApplicationMessageReceivedEventArgs e)
    {
        var payload = e.ApplicationMessage.Payload.ToArray();
        if (!Topics.TryParseDevice(e.ApplicationMessage.Topic, out _, out var leaf)) return Task.CompletedTask;
        switch (leaf)
        {
            case DeviceTopic.Adapter:
                var adapter = MessageBundle<AdapterHeader>.Decode(payload);
                _startFrames = Enumerable.Range(0, adapter.Bundle.Count).Select(adapter.Bundle.GetName).ToHashSet(StringComparer.Ordinal);
                Adapters.Enqueue(adapter.Header);
                break;
            case DeviceTopic.Rejected:
                Rejections.TrySetResult(WireMessages.Decode<Rejection>(payload));
                AllRejections.Writer.TryWrite(WireMessages.Decode<Rejection>(payload));
                break;
            case DeviceTopic.Assign:
                var assignment = WireMessages.Decode<TrainingAssignment>(payload);
                Interlocked.Increment(ref _assignMessages);
                FirstAssignment.TrySetResult(assignment);
                // Like the agent and the firmware, a device trains each round once: a re-sent assignment is ignored.
                if (Assignments.Any(a => a.Round == assignment.Round)) break;
                Assignments.Enqueue(assignment);
                if (_vanish)
                {
                    // Drop the connection without DISCONNECT so the broker publishes the last will.
                    _client.Dispose();
                    break;
                }

                var update = Update(assignment, NextNonce());
                Interlocked.Add(ref _uploaded, update.Length);
                var topic = Topics.Device(_hello.DeviceId, DeviceTopic.Update);
                if (!_replayAndResend)
                {
                    _ = Task.Run(async () =>
                    {
                        if (HoldUpdates) await _updatesReleased.Task;
                        await GatewayHarness.PublishAsync(_client, topic, update);
                    });
                    break;
                }

                var resend = Update(assignment, NextNonce());
                _ = Task.Run(async () =>
                {
                    await GatewayHarness.PublishAsync(_client, topic, update);
                    await GatewayHarness.PublishAsync(_client, topic, update);
                    await GatewayHarness.PublishAsync(_client, topic, resend);
                });
                break;
        }

        return Task.CompletedTask;
    }

    private string NextNonce()
    {
        var nonce = Guid.NewGuid().ToString("N");
        Nonces.Enqueue(nonce);
        return nonce;
    }

    private byte[] Update(TrainingAssignment assignment, string nonce)
    {
        var random = new Random((assignment.Round * 31) + assignment.Rank);
        var full = assignment.ModeOrDefault() == TrainingScope.Full;
        var frames = new List<KeyValuePair<string, TensorFrame>>();
        var scale = _defect == UpdateDefect.HugeNorm ? 1000f : 1f;
        if (full)
        {
            foreach (var (name, shape, values) in new TinyVitWeights(Model).Tensors())
                frames.Add(new(FullWeightFrameName.Of(name), Frame(random, values.Length, shape, assignment.Precision, scale)));
        }
        else
        {
            var startFrames = _startFrames;
            foreach (var projection in AdapterLayout.ForTinyVit(Model).ProjectionsOfLayers(assignment.Layers.ToArray())
                .Where(p => !AdaptsStartAdapterOnly || startFrames.Contains(LoraFrameName.Of(p.Layer, p.Kind, true))))
            {
                var (input, output) = (projection.InFeatures, projection.OutFeatures);
                frames.Add(new(LoraFrameName.Of(projection.Layer, projection.Kind, true), Frame(random, assignment.Rank * input, [assignment.Rank, input], assignment.Precision, scale)));
                frames.Add(new(LoraFrameName.Of(projection.Layer, projection.Kind, false), Frame(random, output * assignment.Rank, [output, assignment.Rank], assignment.Precision, scale)));
            }
        }

        if (_defect == UpdateDefect.NotANumber)
        {
            // Element 0 of the first frame carries a sentinel that becomes NaN after encoding.
            var (name, first) = frames[0];
            var values = first.Dequantize();
            values[0] = Sentinel;
            frames[0] = new(name, TensorFrame.FromFloats(values, first.Shape));
        }

        var header = new LoraUpdateHeader
        {
            Mode = full ? TrainingScope.Full : null,
            Round = assignment.Round,
            Rank = assignment.Rank,
            Layers = assignment.Layers,
            Precision = _defect == UpdateDefect.NotANumber ? Precision.Fp32 : assignment.Precision,
            SampleCount = 100,
            LocalSteps = assignment.LocalSteps,
            TrainingLoss = 1.5,
            BaseModelId = "tinyvit-base",
            Nonce = nonce,
        };
        var bytes = MessageBundle<LoraUpdateHeader>.Create(header, frames).Encode();
        if (_defect == UpdateDefect.CorruptCrc) bytes[^1] ^= 0xFF;
        if (_defect == UpdateDefect.NotANumber) PlantNaN(bytes);
        return bytes;
    }

    /// <summary>Overwrites the sentinel with NaN and recomputes its frame's CRC and the bundle's CRC (WIRE.md sections 2 and 3).</summary>
    private static void PlantNaN(byte[] bundle)
    {
        var sentinel = BitConverter.GetBytes(Sentinel);
        var payload = bundle.AsSpan().IndexOf(sentinel);
        var frameStart = bundle.AsSpan(0, payload).LastIndexOf("ELTF"u8);
        var payloadLength = (int)BitConverter.ToUInt32(bundle, payload - 8);
        BitConverter.GetBytes(float.NaN).CopyTo(bundle, payload);
        var crc = Crc32.Finish(Crc32.Append(Crc32.Append(Crc32.Start(), bundle, frameStart, payload - 4 - frameStart), bundle, payload, payloadLength));
        BitConverter.GetBytes(crc).CopyTo(bundle, payload - 4);
        BitConverter.GetBytes(Crc32.Compute(bundle, 0, bundle.Length - 4)).CopyTo(bundle, bundle.Length - 4);
    }

    private static TensorFrame Frame(Random random, int count, int[] shape, Precision precision, float scale)
    {
        var values = new float[count];
        for (var i = 0; i < count; i++) values[i] = (float)(random.NextDouble() - 0.5) * 0.1f * scale;
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
