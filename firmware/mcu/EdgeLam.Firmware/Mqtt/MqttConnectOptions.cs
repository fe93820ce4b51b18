namespace EdgeLam.Firmware.Mqtt;

/// <summary>What a CONNECT packet carries (MQTT 3.1.1 section 3.1): identity, credentials, keep-alive and the last will.</summary>
public sealed class MqttConnectOptions
{
    /// <summary>Options for a client id; everything else off until set.</summary>
    public MqttConnectOptions(string clientId)
    {
        if (clientId == null || clientId.Length == 0 || clientId.Length > 64)
        {
            throw new System.ArgumentException("An MQTT client id must be 1..64 characters.", nameof(clientId));
        }

        ClientId = clientId;
        KeepAliveSeconds = 30;
        CleanSession = true;
    }

    /// <summary>Client identifier (the device id).</summary>
    public string ClientId { get; }

    /// <summary>User name, or null for an anonymous connection.</summary>
    public string? UserName { get; set; }

    /// <summary>Password, or null; a password needs a user name (MQTT 3.1.1 section 3.1.2.9).</summary>
    public string? Password { get; set; }

    /// <summary>Seconds between control packets before the client pings; 0 turns keep-alive off.</summary>
    public int KeepAliveSeconds { get; set; }

    /// <summary>Start a new session (the server forgets subscriptions and queued messages).</summary>
    public bool CleanSession { get; set; }

    /// <summary>Topic of the last will, or null for none.</summary>
    public string? WillTopic { get; set; }

    /// <summary>Payload of the last will.</summary>
    public byte[]? WillPayload { get; set; }

    /// <summary>Quality of service of the last will (0 or 1).</summary>
    public int WillQualityOfService { get; set; }

    /// <summary>Whether the server retains the last will.</summary>
    public bool WillRetain { get; set; }
}
