namespace EdgeLam.Firmware.Mqtt;

/// <summary>The client could not connect, publish or subscribe: refused, timed out or lost the transport.</summary>
public class MqttConnectionException : System.Exception
{
    /// <summary>A connection failure with a message that says why.</summary>
    public MqttConnectionException(string message)
        : base(message)
    {
    }

    /// <summary>A connection failure caused by another error.</summary>
    public MqttConnectionException(string message, System.Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>A connection failure without details.</summary>
    public MqttConnectionException()
        : base("MQTT connection failed")
    {
    }
}
