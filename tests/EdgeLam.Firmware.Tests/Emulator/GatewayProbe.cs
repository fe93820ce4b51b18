using System.Buffers;
using System.Collections.Concurrent;
using MQTTnet;
using MQTTnet.Protocol;

namespace EdgeLam.Firmware.Tests.Emulator;

/// <summary>A test client acting as the gateway: records every device message and awaits the next one on a topic.</summary>
public sealed class GatewayProbe(IMqttClient client) : IDisposable
{
    private readonly ConcurrentDictionary<string, ConcurrentQueue<byte[]>> _received = new();
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _signals = new();

    public static async Task<GatewayProbe> AttachAsync(IMqttClient client)
    {
        var probe = new GatewayProbe(client);
        client.ApplicationMessageReceivedAsync += e =>
        {
            var topic = e.ApplicationMessage.Topic;
            probe._received.GetOrAdd(topic, _ => new()).Enqueue(e.ApplicationMessage.Payload.ToArray());
            probe._signals.GetOrAdd(topic, _ => new(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
            return Task.CompletedTask;
        };
        await client.SubscribeAsync("edgelam/v1/devices/#", MqttQualityOfServiceLevel.AtLeastOnce);
        return probe;
    }

    /// <summary>The next message on a topic, within the timeout.</summary>
    public async Task<byte[]> NextAsync(string topic, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var signal = _signals.GetOrAdd(topic, _ => new(TaskCreationOptions.RunContinuationsAsynchronously));
            if (_received.TryGetValue(topic, out var queue) && queue.TryDequeue(out var payload)) return payload;
            _signals.TryUpdate(topic, new(TaskCreationOptions.RunContinuationsAsynchronously), signal);
            if (_received.TryGetValue(topic, out queue) && queue.TryDequeue(out payload)) return payload;
            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero) throw new TimeoutException($"no message on {topic} within {timeout.TotalSeconds} s");
            await _signals[topic].Task.WaitAsync(left).ContinueWith(_ => { }, TaskScheduler.Default);
        }
    }

    public Task PublishAsync(string topic, byte[] payload) =>
        client.PublishAsync(new MqttApplicationMessageBuilder().WithTopic(topic).WithPayload(payload)
            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build());

    public void Dispose() => client.Dispose();
}
