using System.Buffers;
using System.Threading.Channels;
using EdgeLam.Contracts.Messages;
using EdgeLam.Contracts.Wire;
using EdgeLam.Gateway.Broker;
using Microsoft.Extensions.Logging;
using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Protocol;

namespace EdgeLam.Gateway.Api;

/// <summary>One event as the dashboard receives it over server-sent events.</summary>
public sealed record ApiEvent(string Kind, DateTimeOffset At, string? DeviceId, int? Round, string? Detail);

/// <summary>
/// Listens to the gateway events topic (registry changes, rounds, rejections, unlearning) over MQTT, the
/// same door operators use with mosquitto_sub, and fans each event out to every open SSE stream.
/// </summary>
public sealed partial class GatewayEventFeed(BrokerOptions brokerOptions, ILogger<GatewayEventFeed> logger) : IAsyncDisposable
{
    // A dashboard that stops reading loses its oldest events rather than holding up the others.
    private const int EventsBufferedPerSubscriber = 256;
    private readonly IMqttClient _client = new MqttClientFactory().CreateMqttClient();
    private readonly Lock _gate = new();
    private readonly List<Channel<ApiEvent>> _subscribers = [];
    private int _disposed;

    /// <summary>Connects to the broker on <paramref name="port"/> and subscribes to the gateway events topic.</summary>
    public async Task StartAsync(int port, CancellationToken cancellationToken)
    {
        _client.ApplicationMessageReceivedAsync += e =>
        {
            OnPayload(e.ApplicationMessage.Payload.ToArray());
            return Task.CompletedTask;
        };
        var builder = new MqttClientOptionsBuilder()
            .WithTcpServer(brokerOptions.Host == "0.0.0.0" ? "127.0.0.1" : brokerOptions.Host, port)
            .WithClientId(brokerOptions.GatewayUser + "-api-" + Guid.NewGuid().ToString("N")[..8])
            .WithCredentials(brokerOptions.GatewayUser, brokerOptions.GatewayPassword)
            .WithProtocolVersion(MqttProtocolVersion.V500)
            .WithCleanStart(true);
        await _client.ConnectAsync(BrokerClientTls.Apply(builder, brokerOptions).Build(), cancellationToken).ConfigureAwait(false);
        await _client.SubscribeAsync(new MqttClientSubscribeOptionsBuilder()
            .WithTopicFilter(Topics.GatewayEvents, MqttQualityOfServiceLevel.AtLeastOnce).Build(), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Opens a stream that receives every event published from this call on; registering here, not at the first read,
    /// means nothing published between opening and reading is missed. Dispose it to close the stream.
    /// </summary>
    public Subscription Open()
    {
        var channel = Channel.CreateBounded<ApiEvent>(new BoundedChannelOptions(EventsBufferedPerSubscriber)
        {
            FullMode = BoundedChannelFullMode.DropOldest,
            SingleReader = true,
        });
        lock (_gate) _subscribers.Add(channel);
        return new Subscription(this, channel);
    }

    private void Close(Channel<ApiEvent> channel)
    {
        lock (_gate) _subscribers.Remove(channel);
    }

    /// <summary>One open stream of events.</summary>
    public sealed class Subscription : IDisposable
    {
        private readonly GatewayEventFeed _feed;
        private readonly Channel<ApiEvent> _channel;

        internal Subscription(GatewayEventFeed feed, Channel<ApiEvent> channel)
        {
            _feed = feed;
            _channel = channel;
        }

        /// <summary>The events in the order they were published.</summary>
        public ChannelReader<ApiEvent> Reader => _channel.Reader;

        /// <inheritdoc/>
        public void Dispose() => _feed.Close(_channel);
    }

    /// <summary>Hands an event to every open stream (also used for events that do not travel over MQTT).</summary>
    public void Publish(ApiEvent item)
    {
        lock (_gate)
        {
            foreach (var subscriber in _subscribers) subscriber.Writer.TryWrite(item);
        }
    }

    private void OnPayload(byte[] payload)
    {
        try
        {
            var message = WireMessages.Decode<GatewayEvent>(payload);
            Publish(new ApiEvent(WireMessages.EnumName(message.Kind), DateTimeOffset.FromUnixTimeMilliseconds(message.TimestampUnixMilliseconds),
                message.DeviceId, message.Round, message.Detail));
        }
        catch (WireFormatException ex)
        {
            LogMalformedEvent(ex.Message);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1) return;
        lock (_gate)
        {
            foreach (var subscriber in _subscribers) subscriber.Writer.TryComplete();
        }

        if (_client.IsConnected)
            await _client.DisconnectAsync(new MqttClientDisconnectOptionsBuilder().WithReason(MqttClientDisconnectOptionsReason.NormalDisconnection).Build()).ConfigureAwait(false);
        _client.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Ignored a malformed gateway event: {Reason}")]
    private partial void LogMalformedEvent(string reason);
}
