using System.Net;
using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using EdgeLam.Contracts.Messages;
using EdgeLam.Contracts.Transport;
using EdgeLam.Contracts.Wire;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MQTTnet;
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
    private X509Certificate2Collection? _clientAuthorities;

    /// <summary>A device that floods refused requests gets each one logged but at most this many events per second.</summary>
    private readonly PerSecondAllowance _refusalEvents = new(20);

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

    /// <summary>The TLS server certificate, when the broker listens with TLS.</summary>
    public X509Certificate2? ServerCertificate { get; private set; }

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
            ServerCertificate = LoadOrCreateCertificate();
            builder = builder.WithoutDefaultEndpoint().WithEncryptedEndpoint().WithEncryptedEndpointPort(Port)
                .WithEncryptedEndpointBoundIPAddress(address).WithEncryptionCertificate(ServerCertificate)
                .WithEncryptionSslProtocol(SslProtocols.Tls12 | SslProtocols.Tls13);
            if (!string.IsNullOrEmpty(_options.ClientCaPath))
            {
                _clientAuthorities = CertificateTrust.LoadAnchors(_options.ClientCaPath);
                builder = builder.WithClientCertificate(ValidateClientCertificate);
            }
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
        ServerCertificate?.Dispose();
    }

    private Task ValidateConnectionAsync(ValidatingConnectionEventArgs e)
    {
        if (!_credentials.TryAuthenticate(e.UserName, e.Password, out var identity, out var reason))
        {
            e.ReasonCode = MqttConnectReasonCode.BadUserNameOrPassword;
            Refuse(new BrokerRefusal("connect", e.ClientId, e.UserName, null, reason));
            return Task.CompletedTask;
        }

        // With client certificates, the certificate names the identity: its CN must be the user name.
        if (_clientAuthorities is not null && !string.Equals(e.ClientCertificate is { } presented ? CertificateTrust.CommonName(presented) : null, identity!.Name, StringComparison.Ordinal))
        {
            e.ReasonCode = MqttConnectReasonCode.NotAuthorized;
            Refuse(new BrokerRefusal("connect", e.ClientId, e.UserName, null,
                $"client certificate CN '{(e.ClientCertificate is { } c ? CertificateTrust.CommonName(c) : null) ?? "(none)"}' does not name user '{identity.Name}'"));
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

    private bool ValidateClientCertificate(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        if (CertificateTrust.IsTrusted(certificate, _clientAuthorities!, out var reason)) return true;
        Refuse(new BrokerRefusal("tls", null, null, null, "client certificate refused: " + reason));
        return false;
    }

    private X509Certificate2 LoadOrCreateCertificate()
    {
        var path = _options.CertificatePath;
        if (string.IsNullOrEmpty(path))
            throw new OptionsValidationException(BrokerOptions.Section, typeof(BrokerOptions), ["Broker:UseTls requires Broker:CertificatePath (a PFX file, or a PEM certificate)"]);
        if (!File.Exists(path) && _options.CreateCertificateIfMissing)
        {
            var created = BrokerCertificates.CreateSelfSignedServerCertificate(path, _options.CertificatePassword, _options.Host);
            LogCertificateCreated(path, BrokerCertificates.PublicPemPath(path), created.Thumbprint);
            return created;
        }

        return BrokerCertificates.LoadServerCertificate(path, _options.CertificatePassword, _options.CertificateKeyPath);
    }

    private void Refuse(BrokerRefusal refusal)
    {
        LogRefused(refusal.Kind, refusal.ClientId, refusal.Topic, refusal.Reason);
        Refused?.Invoke(refusal);
        if (_refusalEvents.TryTake(DateTimeOffset.UtcNow))
            _ = PublishRefusalEventAsync(refusal);
    }

    /// <summary>Says on edgelam/v1/gateway/events what was refused; injected by the broker itself, so no client is needed.</summary>
    private async Task PublishRefusalEventAsync(BrokerRefusal refusal)
    {
        if (_server is not { IsStarted: true } server) return;
        var who = refusal.UserName ?? refusal.ClientId;
        var detail = $"{refusal.Kind} by '{who ?? "(anonymous)"}'{(refusal.Topic is null ? "" : $" on '{refusal.Topic}'")}: {refusal.Reason}";
        var payload = WireMessages.Encode(new GatewayEvent
        {
            Kind = GatewayEventKind.AccessRefused,
            TimestampUnixMilliseconds = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(),
            DeviceId = who is not null && Topics.IsValidDeviceId(who) ? who : null,
            Detail = detail.Length <= 500 ? detail : detail[..500],
        });
        var message = new MqttApplicationMessageBuilder().WithTopic(Topics.GatewayEvents).WithPayload(payload).Build();
        try
        {
            await server.InjectApplicationMessage(new InjectedMqttApplicationMessage(message), CancellationToken.None).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // A refusal event that cannot be sent (broker stopping) must not fault the refusal itself.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            LogRefusalEventNotPublished(ex.Message);
        }
    }

    private static int FreeTcpPort()
    {
        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Embedded MQTT broker listening on port {Port} (TLS {Tls})")]
    private partial void LogStarted(int port, bool tls);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Created a self-signed broker certificate {Path} (thumbprint {Thumbprint}); devices trust {PublicPem}")]
    private partial void LogCertificateCreated(string path, string publicPem, string thumbprint);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not publish a refusal event: {Error}")]
    private partial void LogRefusalEventNotPublished(string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Broker refused {Kind} from {ClientId} on {Topic}: {Reason}")]
    private partial void LogRefused(string kind, string? clientId, string? topic, string reason);
}

/// <summary>At most a fixed number of takes per wall-clock second.</summary>
internal sealed class PerSecondAllowance(int perSecond)
{
    private readonly Lock _gate = new();
    private long _second;
    private int _taken;

    public bool TryTake(DateTimeOffset now)
    {
        var second = now.ToUnixTimeSeconds();
        lock (_gate)
        {
            if (second != _second)
            {
                _second = second;
                _taken = 0;
            }

            return ++_taken <= perSecond;
        }
    }
}
