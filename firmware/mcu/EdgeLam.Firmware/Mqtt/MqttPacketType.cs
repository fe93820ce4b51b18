namespace EdgeLam.Firmware.Mqtt;

/// <summary>Control packet types of MQTT 3.1.1 (OASIS standard, section 2.2.1).</summary>
public enum MqttPacketType
{
    /// <summary>Client request to connect.</summary>
    Connect = 1,

    /// <summary>Connect acknowledgment.</summary>
    ConnectAcknowledgment = 2,

    /// <summary>Publish message.</summary>
    Publish = 3,

    /// <summary>Publish acknowledgment (QoS 1).</summary>
    PublishAcknowledgment = 4,

    /// <summary>Publish received (QoS 2, part 1).</summary>
    PublishReceived = 5,

    /// <summary>Publish release (QoS 2, part 2).</summary>
    PublishRelease = 6,

    /// <summary>Publish complete (QoS 2, part 3).</summary>
    PublishComplete = 7,

    /// <summary>Client subscribe request.</summary>
    Subscribe = 8,

    /// <summary>Subscribe acknowledgment.</summary>
    SubscribeAcknowledgment = 9,

    /// <summary>Unsubscribe request.</summary>
    Unsubscribe = 10,

    /// <summary>Unsubscribe acknowledgment.</summary>
    UnsubscribeAcknowledgment = 11,

    /// <summary>Ping request.</summary>
    PingRequest = 12,

    /// <summary>Ping response.</summary>
    PingResponse = 13,

    /// <summary>Client is disconnecting.</summary>
    Disconnect = 14,
}
