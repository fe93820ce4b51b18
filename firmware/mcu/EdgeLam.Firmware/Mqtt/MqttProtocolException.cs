namespace EdgeLam.Firmware.Mqtt;

/// <summary>
/// A packet from the server broke MQTT 3.1.1 (or this client's receive limits). The only exception the packet
/// parser throws on any input; the client closes the connection when it sees one (MQTT 3.1.1 section 4.8).
/// </summary>
public class MqttProtocolException : System.Exception
{
    /// <summary>A protocol error with a message that names what is wrong.</summary>
    public MqttProtocolException(string message)
        : base(message)
    {
    }

    /// <summary>A protocol error caused by another error.</summary>
    public MqttProtocolException(string message, System.Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>A protocol error without details.</summary>
    public MqttProtocolException()
        : base("MQTT protocol error")
    {
    }
}
