namespace EdgeLam.Firmware.Mqtt;

/// <summary>Receives what the client's Poll delivers, on the thread that polls.</summary>
public interface IMqttMessageHandler
{
    /// <summary>An application message arrived on a subscribed topic.</summary>
    void OnMessage(string topic, byte[] payload, bool retain);

    /// <summary>The connection ended without a DISCONNECT from this side; the reason names why.</summary>
    void OnConnectionLost(string reason);
}
