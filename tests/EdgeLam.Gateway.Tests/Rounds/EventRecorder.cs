using System.Buffers;
using EdgeLam.Contracts.Messages;
using EdgeLam.Contracts.Wire;
using EdgeLam.Gateway.Broker;
using Microsoft.Extensions.Options;
using MQTTnet;
using MQTTnet.Formatter;

namespace EdgeLam.Gateway.Tests.Rounds;

/// <summary>Records what the gateway publishes on its events topic, as an operator's MQTT client would see it.</summary>
public sealed class EventRecorder : IAsyncDisposable
{
    private readonly IMqttClient _client;
    private readonly List<GatewayEvent> _events = [];
    private readonly SemaphoreSlim _arrived = new(0);

    private EventRecorder(IMqttClient client) => _client = client;

    /// <summary>Subscribes with the gateway's own credentials (devices may not read the events topic).</summary>
    public static Task<EventRecorder> StartAsync(GatewayHarness gateway)
    {
        var broker = gateway.Get<IOptions<BrokerOptions>>().Value;
        return StartAsync(gateway.Port, broker.GatewayUser, broker.GatewayPassword);
    }

    public static async Task<EventRecorder> StartAsync(int port, string user, string password)
    {
        var client = new MqttClientFactory().CreateMqttClient();
        var recorder = new EventRecorder(client);
        client.ApplicationMessageReceivedAsync += e =>
        {
            var payload = e.ApplicationMessage.Payload.ToArray();
            lock (recorder._events) recorder._events.Add(WireMessages.Decode<GatewayEvent>(payload));
            recorder._arrived.Release();
            return Task.CompletedTask;
        };
        var result = await client.ConnectAsync(new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", port)
            .WithClientId("events-" + Guid.NewGuid().ToString("N")[..8]).WithCredentials(user, password)
            .WithProtocolVersion(MqttProtocolVersion.V500).Build());
        Assert.Equal(MqttClientConnectResultCode.Success, result.ResultCode);
        await client.SubscribeAsync(Topics.GatewayEvents);
        return recorder;
    }

    /// <summary>The first <paramref name="count"/> events that match, waiting for them up to <paramref name="timeout"/>.</summary>
    public async Task<IReadOnlyList<GatewayEvent>> WaitForAsync(Func<GatewayEvent, bool> match, int count, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            lock (_events)
            {
                var matching = _events.Where(match).ToArray();
                if (matching.Length >= count) return matching;
            }

            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero || !await _arrived.WaitAsync(left))
            {
                lock (_events)
                    throw new TimeoutException($"{count} matching events did not arrive; got: {string.Join("; ", _events.Select(e => $"{e.Kind} {e.DeviceId} {e.Detail}"))}");
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_client.IsConnected) await _client.DisconnectAsync();
        _client.Dispose();
        _arrived.Dispose();
    }
}
