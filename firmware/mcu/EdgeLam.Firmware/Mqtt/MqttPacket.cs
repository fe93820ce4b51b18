namespace EdgeLam.Firmware.Mqtt;

/// <summary>
/// A decoded server-to-client packet. Only the fields of its type are set: CONNACK (session present, return code),
/// PUBLISH (topic, payload, QoS, retain, duplicate, packet id), PUBACK/UNSUBACK (packet id), SUBACK (packet id,
/// granted QoS per filter, 0x80 for a refused filter), PINGRESP (nothing).
/// </summary>
public sealed class MqttPacket
{
    /// <summary>A packet of a type; the parser fills the fields.</summary>
    public MqttPacket(MqttPacketType type)
    {
        Type = type;
        Topic = string.Empty;
        Payload = new byte[0];
        GrantedQualities = new byte[0];
    }

    /// <summary>Control packet type.</summary>
    public MqttPacketType Type { get; }

    /// <summary>Packet identifier (PUBLISH QoS 1, PUBACK, SUBACK, UNSUBACK); 0 when the type has none.</summary>
    public int PacketIdentifier { get; set; }

    /// <summary>CONNACK: the server resumed a stored session.</summary>
    public bool SessionPresent { get; set; }

    /// <summary>CONNACK: 0 accepted, 1..5 refused (MQTT 3.1.1 table 3.1).</summary>
    public int ReturnCode { get; set; }

    /// <summary>PUBLISH: topic name.</summary>
    public string Topic { get; set; }

    /// <summary>PUBLISH: application message.</summary>
    public byte[] Payload { get; set; }

    /// <summary>PUBLISH: quality of service 0 or 1.</summary>
    public int QualityOfService { get; set; }

    /// <summary>PUBLISH: the retain flag (a retained message delivered on subscribe).</summary>
    public bool Retain { get; set; }

    /// <summary>PUBLISH: the DUP flag (a redelivery).</summary>
    public bool Duplicate { get; set; }

    /// <summary>SUBACK: one return code per filter of the SUBSCRIBE.</summary>
    public byte[] GrantedQualities { get; set; }

    /// <summary>Text of a CONNACK return code (MQTT 3.1.1 table 3.1).</summary>
    public static string DescribeReturnCode(int returnCode)
    {
        switch (returnCode)
        {
            case 0: return "accepted";
            case 1: return "unacceptable protocol version";
            case 2: return "identifier rejected";
            case 3: return "server unavailable";
            case 4: return "bad user name or password";
            case 5: return "not authorized";
            default: return "unknown return code " + returnCode.ToString();
        }
    }
}
