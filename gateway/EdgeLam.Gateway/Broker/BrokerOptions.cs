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

    public bool UseTls { get; set; }

    /// <summary>PFX file with the server certificate (embedded broker with TLS).</summary>
    public string? CertificatePath { get; set; }

    public string? CertificatePassword { get; set; }

    /// <summary>Accept a self-signed broker certificate (development only).</summary>
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
