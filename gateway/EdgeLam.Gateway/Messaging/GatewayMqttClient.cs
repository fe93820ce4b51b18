using System.Buffers;
using EdgeLam.Contracts.Messages;
using EdgeLam.Contracts.Wire;
using EdgeLam.Gateway.Broker;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Protocol;

namespace EdgeLam.Gateway.Messaging;

/// <summary>A message a device published, as the gateway received it.</summary>
public sealed record DeviceMessage(string DeviceId, DeviceTopic Leaf, string Topic, byte[] Payload, string? ResponseTopic, byte[]? CorrelationData);

/// <summary>
/// The gateway's one MQTT connection, used the same way whether the broker is embedded or external:
/// MQTT 5, persistent session, retained online status with an offline last will, reconnect with backoff.
/// Inbound device messages are handed to <see cref="DeviceMessageReceived"/> handlers in arrival order.
/// </summary>
public sealed partial class GatewayMqttClient : IAsyncDisposable
{
    private static readonly DeviceTopic[] Uplinks =
        [DeviceTopic.Hello, DeviceTopic.Status, DeviceTopic.Heartbeat, DeviceTopic.Update, DeviceTopic.InferenceResult, DeviceTopic.DeployAck];

    private readonly BrokerOptions _options;
    private readonly ILogger<GatewayMqttClient> _logger;
    private readonly IMqttClient _client;
    private readonly CancellationTokenSource _stopping = new();
    private readonly long _startedUnixMilliseconds = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
    private Task? _supervisor;
    private int _port;
    private int _disposed;

    public GatewayMqttClient(IOptions<BrokerOptions> options, ILogger<GatewayMqttClient> logger)
    {
        _options = options.Value;
        _logger = logger;
        _client = new MqttClientFactory().CreateMqttClient();
        _client.ApplicationMessageReceivedAsync += OnMessageAsync;
    }

    /// <summary>Handlers of device uplinks; exceptions in a handler are logged, never stop the client.</summary>
    public event Func<DeviceMessage, Task>? DeviceMessageReceived;

    /// <summary>Handlers of operator commands on edgelam/v1/gateway/command.</summary>
    public event Func<byte[], Task>? OperatorCommandReceived;

    public bool IsConnected => _client.IsConnected;

    /// <summary>Connects (retrying until it succeeds or is cancelled) and keeps the connection alive.</summary>
    public async Task StartAsync(int port, CancellationToken cancellationToken)
    {
        _port = port;
        await ConnectWithBackoffAsync(cancellationToken).ConfigureAwait(false);
        _supervisor = Task.Run(() => SuperviseAsync(_stopping.Token), CancellationToken.None);
    }

    public Task PublishAsync<TMessage>(string topic, TMessage message, bool retain = false, CancellationToken cancellationToken = default)
        where TMessage : class, IWireMessage =>
        PublishBytesAsync(topic, WireMessages.Encode(message), retain, cancellationToken: cancellationToken);

    public async Task PublishBytesAsync(string topic, byte[] payload, bool retain = false,
        string? responseTopic = null, byte[]? correlationData = null, CancellationToken cancellationToken = default)
    {
        var builder = new MqttApplicationMessageBuilder().WithTopic(topic).WithPayload(payload).WithRetainFlag(retain)
            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce);
        if (responseTopic is not null) builder = builder.WithResponseTopic(responseTopic);
        if (correlationData is not null) builder = builder.WithCorrelationData(correlationData);
        var result = await _client.PublishAsync(builder.Build(), cancellationToken).ConfigureAwait(false);
        if (!result.IsSuccess && result.ReasonCode != MqttClientPublishReasonCode.NoMatchingSubscribers)
            throw new InvalidOperationException($"broker refused publish to '{topic}': {result.ReasonCode} {result.ReasonString}");
    }

    public Task PublishStatusAsync(PresenceState state, int deviceCount, int round, CancellationToken cancellationToken = default) =>
        PublishAsync(Topics.GatewayStatus, Status(state, deviceCount, round), retain: true, cancellationToken);

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1) return;
        await _stopping.CancelAsync().ConfigureAwait(false);
        if (_supervisor is not null)
        {
            try { await _supervisor.ConfigureAwait(false); }
            catch (OperationCanceledException) { }
        }

        if (_client.IsConnected)
        {
            try
            {
                await PublishStatusAsync(PresenceState.Offline, 0, 0).ConfigureAwait(false);
                await _client.DisconnectAsync(new MqttClientDisconnectOptionsBuilder().WithReason(MqttClientDisconnectOptionsReason.NormalDisconnection).Build()).ConfigureAwait(false);
            }
            catch (MQTTnet.Exceptions.MqttCommunicationException) { }
        }

        _client.Dispose();
        _stopping.Dispose();
    }

    private MqttClientOptions ClientOptions()
    {
        var will = WireMessages.Encode(Status(PresenceState.Offline, 0, 0));
        var builder = new MqttClientOptionsBuilder()
            .WithTcpServer(_options.Host == "0.0.0.0" ? "127.0.0.1" : _options.Host, _port)
            .WithClientId(_options.GatewayUser)
            .WithCredentials(_options.GatewayUser, _options.GatewayPassword)
            .WithProtocolVersion(MqttProtocolVersion.V500)
            .WithCleanStart(false)
            .WithSessionExpiryInterval(3600)
            .WithKeepAlivePeriod(TimeSpan.FromSeconds(15))
            .WithTimeout(TimeSpan.FromSeconds(10))
            .WithWillTopic(Topics.GatewayStatus).WithWillPayload(will).WithWillRetain()
            .WithWillQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce);
        return BrokerClientTls.Apply(builder, _options).Build();
    }

    private async Task ConnectWithBackoffAsync(CancellationToken cancellationToken)
    {
        var delay = TimeSpan.FromMilliseconds(200);
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            try
            {
                var result = await _client.ConnectAsync(ClientOptions(), cancellationToken).ConfigureAwait(false);
                if (result.ResultCode == MqttClientConnectResultCode.Success)
                {
                    if (!result.IsSessionPresent) await SubscribeAsync(cancellationToken).ConfigureAwait(false);
                    await PublishStatusAsync(PresenceState.Online, 0, 0, cancellationToken).ConfigureAwait(false);
                    LogConnected(_options.Host, _port, result.IsSessionPresent);
                    return;
                }

                LogConnectRefused(result.ResultCode.ToString(), result.ReasonString);
            }
            catch (Exception ex) when (ex is MQTTnet.Exceptions.MqttCommunicationException or TimeoutException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
            {
                LogConnectFailed(ex.Message, delay.TotalMilliseconds);
            }

            await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
            delay = TimeSpan.FromMilliseconds(Math.Min(delay.TotalMilliseconds * 2, 10_000));
        }
    }

    private async Task SubscribeAsync(CancellationToken cancellationToken)
    {
        var builder = new MqttClientSubscribeOptionsBuilder();
        foreach (var leaf in Uplinks)
            builder = builder.WithTopicFilter(Topics.AllDevices(leaf), MqttQualityOfServiceLevel.AtLeastOnce);
        builder = builder.WithTopicFilter(Topics.GatewayCommand, MqttQualityOfServiceLevel.AtLeastOnce);
        await _client.SubscribeAsync(builder.Build(), cancellationToken).ConfigureAwait(false);
    }

    private async Task SuperviseAsync(CancellationToken stopping)
    {
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(TimeSpan.FromMilliseconds(500), stopping).ConfigureAwait(false);
                if (!_client.IsConnected)
                {
                    LogReconnecting();
                    await ConnectWithBackoffAsync(stopping).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private async Task OnMessageAsync(MqttApplicationMessageReceivedEventArgs e)
    {
        var message = e.ApplicationMessage;
        var payload = message.Payload.ToArray();
        try
        {
            if (message.Topic == Topics.GatewayCommand)
            {
                if (OperatorCommandReceived is { } commandHandler) await commandHandler(payload).ConfigureAwait(false);
                return;
            }

            if (!Topics.TryParseDevice(message.Topic, out var deviceId, out var leaf) || !Topics.IsPublishedByDevice(leaf))
            {
                LogIgnored(message.Topic);
                return;
            }

            if (DeviceMessageReceived is { } handler)
                await handler(new DeviceMessage(deviceId, leaf, message.Topic, payload, message.ResponseTopic, message.CorrelationData)).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // A faulty handler must not take down the gateway's only connection.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            LogHandlerFailed(ex, message.Topic);
        }
    }

    private GatewayStatus Status(PresenceState state, int deviceCount, int round) => new()
    {
        State = state,
        Version = typeof(GatewayMqttClient).Assembly.GetName().Version?.ToString(3) ?? "1.0.0",
        StartedUnixMilliseconds = _startedUnixMilliseconds,
        DeviceCount = deviceCount,
        Round = round,
    };

    [LoggerMessage(Level = LogLevel.Information, Message = "Gateway connected to MQTT broker {Host}:{Port} (session present {SessionPresent})")]
    private partial void LogConnected(string host, int port, bool sessionPresent);

    [LoggerMessage(Level = LogLevel.Error, Message = "MQTT broker refused the gateway: {ResultCode} {Reason}")]
    private partial void LogConnectRefused(string resultCode, string? reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "MQTT connection failed ({Error}); retrying in {DelayMilliseconds} ms")]
    private partial void LogConnectFailed(string error, double delayMilliseconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "MQTT connection lost; reconnecting")]
    private partial void LogReconnecting();

    [LoggerMessage(Level = LogLevel.Debug, Message = "Ignored message on {Topic}")]
    private partial void LogIgnored(string topic);

    [LoggerMessage(Level = LogLevel.Error, Message = "Handler for {Topic} failed")]
    private partial void LogHandlerFailed(Exception exception, string topic);
}
