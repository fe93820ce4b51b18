namespace EdgeLam.Firmware.Mqtt;

/// <summary>
/// A reliable ordered byte stream to the broker: a TCP socket on the device (nanoFramework System.Net) and in the
/// emulator (.NET sockets). The only door between the MQTT client and the network.
/// </summary>
public interface IByteTransport
{
    /// <summary>True between a successful Open and Close or a failed call.</summary>
    bool IsOpen { get; }

    /// <summary>Opens a new connection to the broker; throws when it cannot.</summary>
    void Open();

    /// <summary>
    /// Waits up to the timeout for bytes and copies what arrived (at most count). Returns the number of bytes,
    /// 0 when none arrived in time, or -1 when the peer closed the stream.
    /// </summary>
    int Read(byte[] buffer, int offset, int count, int timeoutMilliseconds);

    /// <summary>Writes all bytes; throws when the stream is broken.</summary>
    void Write(byte[] buffer, int offset, int count);

    /// <summary>Closes the connection; safe to call twice.</summary>
    void Close();
}
