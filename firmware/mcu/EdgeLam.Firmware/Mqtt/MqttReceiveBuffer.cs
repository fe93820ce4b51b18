namespace EdgeLam.Firmware.Mqtt;

/// <summary>
/// A fixed-capacity buffer of received bytes: the transport reads into its free tail, whole packets are taken from
/// its head. Its capacity is the largest packet the device accepts, so memory use is bounded whatever the server sends.
/// </summary>
public sealed class MqttReceiveBuffer
{
    private readonly byte[] bytes;
    private int count;

    /// <summary>A buffer of a capacity in bytes (at least 16).</summary>
    public MqttReceiveBuffer(int capacityBytes)
    {
        if (capacityBytes < 16)
        {
            throw new System.ArgumentOutOfRangeException(nameof(capacityBytes), "The MQTT receive buffer needs at least 16 bytes, got " + capacityBytes.ToString() + ".");
        }

        bytes = new byte[capacityBytes];
    }

    /// <summary>Capacity, the largest packet accepted.</summary>
    public int Capacity => bytes.Length;

    /// <summary>Bytes waiting to be parsed.</summary>
    public int Count => count;

    /// <summary>Reads from the transport into the free tail; returns what the transport returned (-1 closed, 0 timeout).</summary>
    public int ReadFrom(IByteTransport transport, int timeoutMilliseconds)
    {
        int free = bytes.Length - count;
        if (free == 0)
        {
            throw new MqttProtocolException("The receive buffer of " + bytes.Length.ToString() + " bytes is full without a complete packet.");
        }

        int read = transport.Read(bytes, count, free, timeoutMilliseconds);
        if (read > 0)
        {
            count += read;
        }

        return read;
    }

    /// <summary>Appends bytes (for tests and transports that push).</summary>
    public void Append(byte[] data, int offset, int length)
    {
        if (length > bytes.Length - count)
        {
            throw new MqttProtocolException("Appending " + length.ToString() + " bytes overflows the receive buffer of " + bytes.Length.ToString() + " bytes.");
        }

        System.Array.Copy(data, offset, bytes, count, length);
        count += length;
    }

    /// <summary>Takes the next complete packet, or returns null when it has not fully arrived.</summary>
    public MqttPacket? TakePacket()
    {
        if (!MqttPacketReader.TryRead(bytes, 0, count, bytes.Length, out MqttPacket? packet, out int consumed))
        {
            return null;
        }

        count -= consumed;
        System.Array.Copy(bytes, consumed, bytes, 0, count);
        return packet;
    }

    /// <summary>Forgets buffered bytes (after a reconnect).</summary>
    public void Clear()
    {
        count = 0;
    }
}
