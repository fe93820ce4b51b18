using System.ComponentModel.DataAnnotations;

namespace EdgeLam.Gateway.Broker;

/// <summary>Where the gateway's MQTT traffic goes: an in-process MQTTnet broker (default) or an external one.</summary>
public enum BrokerMode
{
    Embedded,
    External,
}

/// <summary>Bound from the "Broker" section of appsettings.json.</summary>
public sealed class BrokerOptions
{
    public const string Section = "Broker";

    public BrokerMode Mode { get; set; } = BrokerMode.Embedded;

    /// <summary>Host of the external broker, or the address the embedded broker binds ("0.0.0.0" for all).</summary>
    [Required]
    public string Host { get; set; } = "127.0.0.1";

    /// <summary>TCP port; 0 lets the embedded broker pick a free port (tests).</summary>
    [Range(0, 65535)]
    public int Port { get; set; } = 1883;

    /// <summary>MQTT over TLS: the embedded broker listens with TLS only on <see cref="Port"/>; clients connect with TLS.</summary>
    public bool UseTls { get; set; }

    /// <summary>Server certificate of the embedded broker: a PFX file, or a PEM certificate (key in <see cref="CertificateKeyPath"/>).</summary>
    public string? CertificatePath { get; set; } = ".edgelam/tls/broker.pfx";

    /// <summary>Password of the PFX file, or of an encrypted PEM key.</summary>
    public string? CertificatePassword { get; set; }

    /// <summary>PEM private key of a PEM server certificate; absent when the key is in the certificate file.</summary>
    public string? CertificateKeyPath { get; set; }

    /// <summary>On a first run without <see cref="CertificatePath"/>, create a self-signed certificate there (its public PEM beside it, ".crt").</summary>
    public bool CreateCertificateIfMissing { get; set; } = true;

    /// <summary>PEM file of the CA that signs device client certificates; when set, every client must present one
    /// that chains to it and whose CN equals its MQTT user name.</summary>
    public string? ClientCaPath { get; set; }

    /// <summary>PEM file of the CA (or certificate) the gateway's own clients trust for the broker; by default the
    /// embedded broker's own certificate.</summary>
    public string? TrustedCaPath { get; set; }

    /// <summary>The gateway's own client certificate (PFX) when the broker requires client certificates.</summary>
    public string? ClientCertificatePath { get; set; }

    public string? ClientCertificatePassword { get; set; }

    /// <summary>Accept any broker certificate (development only; prefer <see cref="TrustedCaPath"/>).</summary>
    public bool AllowUntrustedCertificates { get; set; }

    /// <summary>The gateway's own MQTT identity. Its password is stored hashed in the credential store.</summary>
    [Required, RegularExpression("^[A-Za-z0-9_.-]{1,64}$")]
    public string GatewayUser { get; set; } = "gateway";

    [Required, MinLength(8)]
    public string GatewayPassword { get; set; } = "change-me-gateway";

    /// <summary>JSON file holding hashed credentials of the gateway, operators and enrolled devices.</summary>
    [Required]
    public string CredentialsPath { get; set; } = ".edgelam/credentials.json";

    [Range(1, 100_000)]
    public int MaxPendingMessagesPerClient { get; set; } = 1000;
}
