using System.Buffers;
using System.Collections.Concurrent;
using System.Security.Cryptography.X509Certificates;
using EdgeLam.Contracts.Messages;
using EdgeLam.Contracts.Transport;
using EdgeLam.Contracts.Wire;
using Microsoft.Extensions.Logging;
using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Protocol;

namespace EdgeLam.Agent.Messaging;

/// <summary>A message the agent received on one of its downlink topics.</summary>
/// <param name="Leaf">Which downlink.</param>
/// <param name="Payload">The payload bytes.</param>
/// <param name="ResponseTopic">MQTT 5 response topic, if the sender gave one.</param>
/// <param name="CorrelationData">MQTT 5 correlation data, if the sender gave some.</param>
public sealed record ReceivedMessage(DeviceTopic Leaf, byte[] Payload, string? ResponseTopic, byte[]? CorrelationData);

/// <summary>
/// The agent's MQTT 5 session: reconnects with exponential backoff, keeps a persistent session, registers
/// a retained "offline" status as last will, and delivers queued uplinks (QoS 1) once connected again.
/// </summary>
public sealed partial class AgentConnection : IAsyncDisposable
{
    private static readonly DeviceTopic[] Downlinks = [DeviceTopic.Assign, DeviceTopic.Adapter, DeviceTopic.Deploy, DeviceTopic.InferenceRequest, DeviceTopic.Rejected];

    private readonly AgentOptions _options;
    private readonly ILogger _logger;
    private readonly IMqttClient _client;
    private readonly ConcurrentQueue<MqttApplicationMessage> _outbox = new();
    private readonly SemaphoreSlim _flushGate = new(1, 1);
    private readonly ReconnectBackoff _backoff;
    private readonly ConcurrentDictionary<DeviceTopic, long> _delivered = new();
    private TaskCompletionSource _disconnected = NewSignal();
    private X509Certificate2Collection? _trustAnchors;
    private X509Certificate2? _clientCertificate;

    /// <summary>A connection for the device of <paramref name="options"/>; nothing happens until <see cref="RunAsync"/>.</summary>
    public AgentConnection(AgentOptions options, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        _logger = logger;
        _backoff = new ReconnectBackoff(options.ReconnectInitialDelay, options.ReconnectMaximumDelay);
        _client = new MqttClientFactory().CreateMqttClient();
        _client.ApplicationMessageReceivedAsync += OnMessageAsync;
        _client.DisconnectedAsync += OnDisconnectedAsync;
    }

    /// <summary>Called with every downlink message; runs on the MQTT receive path, so it should hand work off quickly.</summary>
    public Func<ReceivedMessage, Task>? MessageReceived { get; set; }

    /// <summary>Called after each successful connect and subscribe, before queued uplinks are delivered.</summary>
    public Func<CancellationToken, Task>? Connected { get; set; }

    /// <summary>Raised when the connection state changes (true: connected).</summary>
    public event Action<bool>? ConnectionChanged;

    /// <summary>Raised for every failed connection attempt, with what failed (refused, unreachable, untrusted certificate).</summary>
    public event Action<string>? ConnectFailed;

    /// <summary>Whether the client is connected now.</summary>
    public bool IsConnected => _client.IsConnected;

    /// <summary>Uplinks waiting for a connection.</summary>
    public int PendingUplinks => _outbox.Count;

    /// <summary>
    /// Uplinks on <paramref name="leaf"/> the broker acknowledged with a subscriber present: the device's side of the
    /// update ledger (published = accepted + rejected at the gateway).
    /// </summary>
    public long Delivered(DeviceTopic leaf) => _delivered.GetValueOrDefault(leaf);

    /// <summary>Delivers queued uplinks now (the heartbeat loop retries those no subscriber took yet).</summary>
    public Task RetryPendingAsync(CancellationToken cancellationToken) => _outbox.IsEmpty ? Task.CompletedTask : FlushAsync(cancellationToken);

    /// <summary>Successful connects so far.</summary>
    public int ConnectCount { get; private set; }

    /// <summary>Connects, and reconnects after every loss, until <paramref name="cancellationToken"/> is cancelled.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            string? failure = await TryConnectAsync(cancellationToken).ConfigureAwait(false);
            if (failure is null)
            {
                _backoff.Reset();
                await WaitForDisconnectAsync(cancellationToken).ConfigureAwait(false);
                continue;
            }

            TimeSpan delay = _backoff.NextDelay();
            ConnectFailed?.Invoke(failure);
            LogConnectFailed(_logger, _options.BrokerHost, _options.BrokerPort, failure, _backoff.Failures, delay.TotalMilliseconds);
            try
            {
                await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
    }

    /// <summary>Publishes now (QoS 1); false when not connected or the broker refused. Never throws for a lost connection.</summary>
    public async Task<bool> TryPublishAsync(MqttApplicationMessage message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (!_client.IsConnected) return false;
        try
        {
            MqttClientPublishResult result = await _client.PublishAsync(message, cancellationToken).ConfigureAwait(false);
            if (result.IsSuccess) return true;
            LogPublishRefused(_logger, message.Topic, result.ReasonCode.ToString(), result.ReasonString);
            return false;
        }
        catch (Exception exception) when (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            LogPublishFailed(_logger, message.Topic, exception.Message);
            return false;
        }
    }

    /// <summary>
    /// Publishes a must-not-lose uplink: "no matching subscribers" means the gateway was not listening (it is
    /// restarting), so the message stays queued and is tried again.
    /// </summary>
    private async Task<bool> TryDeliverAsync(MqttApplicationMessage message, CancellationToken cancellationToken)
    {
        if (!_client.IsConnected) return false;
        try
        {
            MqttClientPublishResult result = await _client.PublishAsync(message, cancellationToken).ConfigureAwait(false);
            if (result.ReasonCode == MqttClientPublishReasonCode.Success)
            {
                if (Topics.TryParseDevice(message.Topic, out _, out DeviceTopic leaf)) _delivered.AddOrUpdate(leaf, 1, (_, count) => count + 1);
                return true;
            }

            LogPublishRefused(_logger, message.Topic, result.ReasonCode.ToString(), result.ReasonString);
            return false;
        }
        catch (Exception exception) when (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            LogPublishFailed(_logger, message.Topic, exception.Message);
            return false;
        }
    }

    /// <summary>Queues an uplink that must not be lost (updates, deployment acks) and delivers it as soon as connected.</summary>
    public Task EnqueueAsync(MqttApplicationMessage message, CancellationToken cancellationToken)
    {
        _outbox.Enqueue(message);
        return FlushAsync(cancellationToken);
    }

    /// <summary>Publishes the retained "offline" status with a reason and disconnects without the last will.</summary>
    public async Task DisconnectAsync(string reason, CancellationToken cancellationToken)
    {
        if (!_client.IsConnected) return;
        await TryPublishAsync(StatusMessage(PresenceState.Offline, reason), cancellationToken).ConfigureAwait(false);
        try
        {
            await _client.DisconnectAsync(new MqttClientDisconnectOptionsBuilder().WithReason(MqttClientDisconnectOptionsReason.NormalDisconnection).Build(), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            LogPublishFailed(_logger, "disconnect", exception.Message);
        }
    }

    /// <summary>A QoS 1 message on one of this device's topics.</summary>
    public MqttApplicationMessage Uplink(DeviceTopic leaf, byte[] payload, bool retain = false) =>
        new MqttApplicationMessageBuilder()
            .WithTopic(Topics.Device(_options.DeviceId, leaf))
            .WithPayload(payload)
            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce)
            .WithRetainFlag(retain)
            .Build();

    /// <summary>The retained presence message of this device.</summary>
    public MqttApplicationMessage StatusMessage(PresenceState state, string? reason) =>
        Uplink(DeviceTopic.Status, WireMessages.Encode(new DeviceStatus { State = state, Reason = reason }), retain: true);

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        _client.DisconnectedAsync -= OnDisconnectedAsync;
        if (_client.IsConnected)
        {
            try
            {
                await _client.DisconnectAsync(new MqttClientDisconnectOptionsBuilder().Build()).ConfigureAwait(false);
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                LogPublishFailed(_logger, "disconnect", exception.Message);
            }
        }

        _client.Dispose();
        _flushGate.Dispose();
        _clientCertificate?.Dispose();
    }

    /// <summary>TLS trusting only the configured CA (not the system store), with this device's certificate when it has one.</summary>
    private void ConfigureTls(MqttClientTlsOptionsBuilder tls)
    {
        _trustAnchors ??= CertificateTrust.LoadAnchors(_options.TrustedCaPath!);
        X509Certificate2Collection anchors = _trustAnchors;
        tls.UseTls().WithCertificateValidationHandler(e =>
        {
            if (CertificateTrust.IsTrustedServer(e.Certificate, e.SslPolicyErrors, anchors, out string reason)) return true;
            LogBrokerCertificateRefused(_logger, _options.BrokerHost, reason);
            return false;
        });
        if (_options.ClientCertificatePath is { Length: > 0 } path)
        {
            _clientCertificate ??= X509CertificateLoader.LoadPkcs12FromFile(path, _options.ClientCertificatePassword);
            tls.WithClientCertificates([_clientCertificate]);
        }
    }

    private async Task<string?> TryConnectAsync(CancellationToken cancellationToken)
    {
        byte[] will = WireMessages.Encode(new DeviceStatus { State = PresenceState.Offline, Reason = "last-will" });
        MqttClientOptionsBuilder builder = new MqttClientOptionsBuilder()
            .WithTcpServer(_options.BrokerHost, _options.BrokerPort)
            .WithClientId(_options.DeviceId)
            .WithCredentials(_options.UserName ?? _options.DeviceId, _options.Password)
            .WithProtocolVersion(MqttProtocolVersion.V500)
            .WithCleanStart(false)
            .WithSessionExpiryInterval((uint)_options.SessionExpiry.TotalSeconds)
            .WithKeepAlivePeriod(TimeSpan.FromSeconds(15))
            .WithTimeout(TimeSpan.FromSeconds(10))
            .WithWillTopic(Topics.Device(_options.DeviceId, DeviceTopic.Status))
            .WithWillPayload(will)
            .WithWillRetain(true)
            .WithWillQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce);
        if (_options.UseTls)
            builder = builder.WithTlsOptions(ConfigureTls);
        MqttClientOptions options = builder.Build();
        _disconnected = NewSignal();
        try
        {
            MqttClientConnectResult result = await _client.ConnectAsync(options, cancellationToken).ConfigureAwait(false);
            if (result.ResultCode != MqttClientConnectResultCode.Success)
                return $"{result.ResultCode} {result.ReasonString}".Trim();
            var subscribe = new MqttClientSubscribeOptionsBuilder();
            foreach (DeviceTopic leaf in Downlinks)
                subscribe.WithTopicFilter(Topics.Device(_options.DeviceId, leaf), MqttQualityOfServiceLevel.AtLeastOnce);
            subscribe.WithTopicFilter(Topics.GatewayStatus, MqttQualityOfServiceLevel.AtLeastOnce);
            await _client.SubscribeAsync(subscribe.Build(), cancellationToken).ConfigureAwait(false);
            ConnectCount++;
            LogConnected(_logger, _options.DeviceId, _options.BrokerHost, _options.BrokerPort, result.IsSessionPresent);
            ConnectionChanged?.Invoke(true);
            if (Connected is { } connected)
                await connected(cancellationToken).ConfigureAwait(false);
            await FlushAsync(cancellationToken).ConfigureAwait(false);
            return null;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception exception)
        {
            if (_client.IsConnected)
            {
                try
                {
                    await _client.DisconnectAsync(new MqttClientDisconnectOptionsBuilder().Build(), CancellationToken.None).ConfigureAwait(false);
                }
                catch (Exception disconnectException) when (disconnectException is not OperationCanceledException)
                {
                    LogPublishFailed(_logger, "disconnect", disconnectException.Message);
                }
            }

            return exception.GetBaseException().Message;
        }
    }

    private async Task WaitForDisconnectAsync(CancellationToken cancellationToken)
    {
        try
        {
            await _disconnected.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Shutting down: the caller disconnects.
        }
    }

    private async Task FlushAsync(CancellationToken cancellationToken)
    {
        if (!_client.IsConnected) return;
        await _flushGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            while (_outbox.TryPeek(out MqttApplicationMessage? message))
            {
                if (!await TryDeliverAsync(message, cancellationToken).ConfigureAwait(false)) return;
                _outbox.TryDequeue(out _);
            }
        }
        finally
        {
            _flushGate.Release();
        }
    }

    private Task OnDisconnectedAsync(MqttClientDisconnectedEventArgs e)
    {
        if (e.ClientWasConnected)
        {
            LogDisconnected(_logger, _options.DeviceId, e.Reason.ToString(), e.Exception?.Message);
            ConnectionChanged?.Invoke(false);
        }

        _disconnected.TrySetResult();
        return Task.CompletedTask;
    }

    private async Task OnMessageAsync(MqttApplicationMessageReceivedEventArgs e)
    {
        MqttApplicationMessage message = e.ApplicationMessage;
        DeviceTopic leaf;
        if (message.Topic == Topics.GatewayStatus)
        {
            return;
        }

        if (!Topics.TryParseDevice(message.Topic, out string deviceId, out leaf) || deviceId != _options.DeviceId)
        {
            LogUnexpectedTopic(_logger, message.Topic);
            return;
        }

        if (MessageReceived is { } handler)
            await handler(new ReceivedMessage(leaf, message.Payload.ToArray(), message.ResponseTopic, message.CorrelationData)).ConfigureAwait(false);
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    [LoggerMessage(Level = LogLevel.Error, Message = "The broker {Host} presented a certificate this device does not trust: {Reason}")]
    private static partial void LogBrokerCertificateRefused(ILogger logger, string host, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Device {DeviceId} connected to {Host}:{Port} (session present {SessionPresent})")]
    private static partial void LogConnected(ILogger logger, string deviceId, string host, int port, bool sessionPresent);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Device {DeviceId} lost the broker ({Reason}: {Detail})")]
    private static partial void LogDisconnected(ILogger logger, string deviceId, string reason, string? detail);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Connecting to {Host}:{Port} failed ({Failure}); attempt {Attempt}, next in {DelayMilliseconds} ms")]
    private static partial void LogConnectFailed(ILogger logger, string host, int port, string failure, int attempt, double delayMilliseconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Broker refused a publish on {Topic}: {ReasonCode} {ReasonString}")]
    private static partial void LogPublishRefused(ILogger logger, string topic, string reasonCode, string? reasonString);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Publishing on {Topic} failed: {Reason}")]
    private static partial void LogPublishFailed(ILogger logger, string topic, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Ignored a message on unexpected topic {Topic}")]
    private static partial void LogUnexpectedTopic(ILogger logger, string topic);
}
