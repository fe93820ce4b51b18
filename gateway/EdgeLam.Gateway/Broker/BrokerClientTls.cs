using System.Security.Cryptography.X509Certificates;
using EdgeLam.Contracts.Transport;
using MQTTnet;

namespace EdgeLam.Gateway.Broker;

/// <summary>TLS settings of the gateway's own MQTT clients (its session, the API's event feed), from <see cref="BrokerOptions"/>.</summary>
public static class BrokerClientTls
{
    /// <summary>Adds TLS to <paramref name="builder"/> when the options ask for it; trusts only the configured anchors.</summary>
    public static MqttClientOptionsBuilder Apply(MqttClientOptionsBuilder builder, BrokerOptions options)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(options);
        if (!options.UseTls) return builder;
        var anchors = options.AllowUntrustedCertificates ? null : TrustAnchors(options);
        X509Certificate2Collection? clientCertificates = null;
        if (!string.IsNullOrEmpty(options.ClientCertificatePath))
            clientCertificates = [X509CertificateLoader.LoadPkcs12FromFile(options.ClientCertificatePath, options.ClientCertificatePassword)];
        return builder.WithTlsOptions(tls =>
        {
            tls.UseTls().WithAllowUntrustedCertificates(options.AllowUntrustedCertificates)
                .WithCertificateValidationHandler(e => anchors is null || CertificateTrust.IsTrustedServer(e.Certificate, e.SslPolicyErrors, anchors, out _));
            if (clientCertificates is not null) tls.WithClientCertificates(clientCertificates);
        });
    }

    /// <summary>The configured CA file, else the embedded broker's own certificate (its public PEM or the PFX).</summary>
    public static X509Certificate2Collection TrustAnchors(BrokerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!string.IsNullOrEmpty(options.TrustedCaPath)) return CertificateTrust.LoadAnchors(options.TrustedCaPath);
        if (options.Mode == BrokerMode.Embedded && !string.IsNullOrEmpty(options.CertificatePath) && File.Exists(options.CertificatePath))
        {
            using var server = BrokerCertificates.LoadServerCertificate(options.CertificatePath, options.CertificatePassword, options.CertificateKeyPath);
            return [X509CertificateLoader.LoadCertificate(server.RawData)];
        }

        throw new InvalidOperationException("Broker:UseTls needs Broker:TrustedCaPath (the CA of the broker's certificate) to connect to an external broker");
    }
}
