using System.Net;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MQTTnet.Protocol;
using MQTTnet.Server;

namespace EdgeLam.Gateway.Broker;

/// <summary>A connection, publish or subscribe that the broker refused, and why.</summary>
public sealed record BrokerRefusal(string Kind, string? ClientId, string? UserName, string? Topic, string Reason);

/// <summary>
/// The in-process MQTTnet 5 broker: refuses anonymous and unknown clients, binds each device's
/// client id to its username, and enforces <see cref="TopicAccessPolicy"/> on every publish and subscribe.
/// </summary>
public sealed partial class EmbeddedBroker : IHostedService, IAsyncDisposable
{
    private const string IdentityKey = "edgelam.identity";
    private readonly BrokerOptions _options;
    private readonly CredentialStore _credentials;
    private readonly ILogger<EmbeddedBroker> _logger;
    private MqttServer? _server;

    public EmbeddedBroker(IOptions<BrokerOptions> options, CredentialStore credentials, ILogger<EmbeddedBroker> logger)
    {
        _options = options.Value;
        _credentials = credentials;
        _logger = logger;
    }

    /// <summary>Raised for every refusal, after it is logged.</summary>
    public event Action<BrokerRefusal>? Refused;

    /// <summary>The TCP port the broker listens on (resolved when the options asked for port 0).</summary>
    public int Port { get; private set; }

    public MqttServer Server => _server ?? throw new InvalidOperationException("the broker has not been started");

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (_options.Mode != BrokerMode.Embedded) return;
        Port = _options.Port == 0 ? FreeTcpPort() : _options.Port;
        var builder = new MqttServerFactory().CreateServerOptionsBuilder()
            .WithMaxPendingMessagesPerClient(_options.MaxPendingMessagesPerClient)
            .WithPersistentSessions();
        var address = IPAddress.Parse(_options.Host);
        if (_options.UseTls)
        {
            if (string.IsNullOrEmpty(_options.CertificatePath))
                throw new OptionsValidationException(BrokerOptions.Section, typeof(BrokerOptions), ["Broker:UseTls requires Broker:CertificatePath (a PFX file)"]);
            var certificate = X509CertificateLoader.LoadPkcs12FromFile(_options.CertificatePath, _options.CertificatePassword);
            builder = builder.WithoutDefaultEndpoint().WithEncryptedEndpoint().WithEncryptedEndpointPort(Port)
                .WithEncryptedEndpointBoundIPAddress(address).WithEncryptionCertificate(certificate);
        }
        else
        {
            builder = builder.WithDefaultEndpoint().WithDefaultEndpointPort(Port).WithDefaultEndpointBoundIPAddress(address);
        }

        _server = new MqttServerFactory().CreateMqttServer(builder.Build());
        _server.ValidatingConnectionAsync += ValidateConnectionAsync;
        _server.InterceptingPublishAsync += InterceptPublishAsync;
        _server.InterceptingSubscriptionAsync += InterceptSubscriptionAsync;
        await _server.StartAsync().ConfigureAwait(false);
        LogStarted(Port, _options.UseTls);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_server is { IsStarted: true }) await _server.StopAsync(new MqttServerStopOptions()).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync(CancellationToken.None).ConfigureAwait(false);
        _server?.Dispose();
    }

    private Task ValidateConnectionAsync(ValidatingConnectionEventArgs e)
    {
        if (!_credentials.TryAuthenticate(e.UserName, e.Password, out var identity, out var reason))
        {
            e.ReasonCode = MqttConnectReasonCode.BadUserNameOrPassword;
            Refuse(new BrokerRefusal("connect", e.ClientId, e.UserName, null, reason));
            return Task.CompletedTask;
        }

        // A device's client id is its device id, so no one can take over another device's session.
        if (identity!.Role == ClientRole.Device && !string.Equals(e.ClientId, identity.Name, StringComparison.Ordinal))
        {
            e.ReasonCode = MqttConnectReasonCode.ClientIdentifierNotValid;
            Refuse(new BrokerRefusal("connect", e.ClientId, e.UserName, null, $"device '{identity.Name}' must connect with client id '{identity.Name}'"));
            return Task.CompletedTask;
        }

        e.SessionItems[IdentityKey] = identity;
        return Task.CompletedTask;
    }

    private Task InterceptPublishAsync(InterceptingPublishEventArgs e)
    {
        // Messages injected by the broker itself (no client) are trusted.
        if (e.ClientId is null || e.SessionItems is null || e.SessionItems[IdentityKey] is not ClientIdentity identity)
            return Task.CompletedTask;
        if (!TopicAccessPolicy.CanPublish(identity, e.ApplicationMessage.Topic, out var reason))
        {
            e.ProcessPublish = false;
            e.Response.ReasonCode = MqttPubAckReasonCode.NotAuthorized;
            e.Response.ReasonString = reason;
            Refuse(new BrokerRefusal("publish", e.ClientId, identity.Name, e.ApplicationMessage.Topic, reason));
        }

        return Task.CompletedTask;
    }

    private Task InterceptSubscriptionAsync(InterceptingSubscriptionEventArgs e)
    {
        if (e.SessionItems?[IdentityKey] is not ClientIdentity identity) return Task.CompletedTask;
        if (!TopicAccessPolicy.CanSubscribe(identity, e.TopicFilter.Topic, out var reason))
        {
            e.ProcessSubscription = false;
            e.Response.ReasonCode = MqttSubscribeReasonCode.NotAuthorized;
            e.Response.ReasonString = reason;
            Refuse(new BrokerRefusal("subscribe", e.ClientId, identity.Name, e.TopicFilter.Topic, reason));
        }

        return Task.CompletedTask;
    }

    private void Refuse(BrokerRefusal refusal)
    {
        LogRefused(refusal.Kind, refusal.ClientId, refusal.Topic, refusal.Reason);
        Refused?.Invoke(refusal);
    }

    private static int FreeTcpPort()
    {
        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Embedded MQTT broker listening on port {Port} (TLS {Tls})")]
    private partial void LogStarted(int port, bool tls);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Broker refused {Kind} from {ClientId} on {Topic}: {Reason}")]
    private partial void LogRefused(string kind, string? clientId, string? topic, string reason);
}
