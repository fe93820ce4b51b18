using EdgeLam.Contracts.Wire;

namespace EdgeLam.Firmware.Mqtt;

/// <summary>
/// Decodes server-to-client packets of MQTT 3.1.1 from a byte buffer. Any defect — reserved flags, a bad length,
/// an invalid string, a packet type a server never sends, a packet larger than the receive buffer — is a
/// <see cref="MqttProtocolException"/> naming it; no other exception escapes for any input.
/// </summary>
public static class MqttPacketReader
{
    /// <summary>
    /// Tries to take one packet from buffer[offset, offset+count). Returns false when the bytes end before the packet
    /// does; then nothing is consumed. A packet longer than <paramref name="maximumPacketBytes"/> is refused as soon
    /// as its header says so.
    /// </summary>
    public static bool TryRead(byte[] buffer, int offset, int count, int maximumPacketBytes, out MqttPacket? packet, out int consumed)
    {
        packet = null;
        consumed = 0;
        if (buffer == null)
        {
            throw new System.ArgumentNullException(nameof(buffer));
        }

        if (offset < 0 || count < 0 || offset + count > buffer.Length)
        {
            throw new System.ArgumentOutOfRangeException(nameof(count), "The range [" + offset.ToString() + ", +" + count.ToString() + ") is outside a buffer of " + buffer.Length.ToString() + " bytes.");
        }

        if (count < 2)
        {
            return false;
        }

        int end = offset + count;
        if (!RemainingLength.TryDecode(buffer, offset + 1, end, out int remaining, out int lengthSize))
        {
            return false;
        }

        int total = 1 + lengthSize + remaining;
        if (total > maximumPacketBytes)
        {
            throw new MqttProtocolException("Packet of " + total.ToString() + " bytes exceeds the receive buffer of " + maximumPacketBytes.ToString() + " bytes.");
        }

        if (total > count)
        {
            return false;
        }

        packet = Decode(buffer[offset], buffer, offset + 1 + lengthSize, remaining);
        consumed = total;
        return true;
    }

    private static MqttPacket Decode(byte header, byte[] buffer, int start, int length)
    {
        int typeCode = header >> 4;
        int flags = header & 0x0F;
        switch (typeCode)
        {
            case (int)MqttPacketType.ConnectAcknowledgment:
                return DecodeConnectAcknowledgment(flags, buffer, start, length);
            case (int)MqttPacketType.Publish:
                return DecodePublish(flags, buffer, start, length);
            case (int)MqttPacketType.PublishAcknowledgment:
            case (int)MqttPacketType.UnsubscribeAcknowledgment:
                return DecodeIdentifierOnly((MqttPacketType)typeCode, flags, buffer, start, length);
            case (int)MqttPacketType.SubscribeAcknowledgment:
                return DecodeSubscribeAcknowledgment(flags, buffer, start, length);
            case (int)MqttPacketType.PingResponse:
                RequireFlags(MqttPacketType.PingResponse, flags, 0);
                RequireLength(MqttPacketType.PingResponse, length, 0);
                return new MqttPacket(MqttPacketType.PingResponse);
            case (int)MqttPacketType.PublishReceived:
            case (int)MqttPacketType.PublishRelease:
            case (int)MqttPacketType.PublishComplete:
                throw new MqttProtocolException("Packet type " + typeCode.ToString() + " belongs to QoS 2, which this client never requests.");
            case (int)MqttPacketType.Connect:
            case (int)MqttPacketType.Subscribe:
            case (int)MqttPacketType.Unsubscribe:
            case (int)MqttPacketType.PingRequest:
            case (int)MqttPacketType.Disconnect:
                throw new MqttProtocolException("Packet type " + typeCode.ToString() + " is sent by clients only, not by a server.");
            default:
                throw new MqttProtocolException("Packet type " + typeCode.ToString() + " is reserved (MQTT 3.1.1 section 2.2.1).");
        }
    }

    private static MqttPacket DecodeConnectAcknowledgment(int flags, byte[] buffer, int start, int length)
    {
        RequireFlags(MqttPacketType.ConnectAcknowledgment, flags, 0);
        RequireLength(MqttPacketType.ConnectAcknowledgment, length, 2);
        int acknowledgeFlags = buffer[start];
        if ((acknowledgeFlags & 0xFE) != 0)
        {
            throw new MqttProtocolException("CONNACK acknowledge flags 0x" + acknowledgeFlags.ToString("X2") + " set reserved bits 7..1 (section 3.2.2.1).");
        }

        int returnCode = buffer[start + 1];
        if (returnCode > 5)
        {
            throw new MqttProtocolException("CONNACK return code " + returnCode.ToString() + " is reserved (section 3.2.2.3).");
        }

        var packet = new MqttPacket(MqttPacketType.ConnectAcknowledgment);
        packet.SessionPresent = acknowledgeFlags == 1;
        packet.ReturnCode = returnCode;
        return packet;
    }

    private static MqttPacket DecodePublish(int flags, byte[] buffer, int start, int length)
    {
        int qualityOfService = (flags >> 1) & 0x03;
        if (qualityOfService == 3)
        {
            throw new MqttProtocolException("PUBLISH with both QoS bits set is malformed (section 3.3.1.2).");
        }

        if (qualityOfService == 2)
        {
            throw new MqttProtocolException("PUBLISH at QoS 2, which this client never subscribes with.");
        }

        bool duplicate = (flags & 0x08) != 0;
        if (qualityOfService == 0 && duplicate)
        {
            throw new MqttProtocolException("PUBLISH at QoS 0 with the DUP flag set (section 3.3.1.1).");
        }

        int end = start + length;
        int position = start;
        string topic = ReadString(buffer, ref position, end, "PUBLISH topic name");
        if (topic.Length == 0 || topic.IndexOf('+') >= 0 || topic.IndexOf('#') >= 0)
        {
            throw new MqttProtocolException("PUBLISH topic name '" + topic + "' is empty or holds a wildcard (section 3.3.2.1).");
        }

        var packet = new MqttPacket(MqttPacketType.Publish);
        if (qualityOfService > 0)
        {
            packet.PacketIdentifier = ReadIdentifier(buffer, ref position, end, "PUBLISH");
        }

        int payloadLength = end - position;
        byte[] payload = new byte[payloadLength];
        System.Array.Copy(buffer, position, payload, 0, payloadLength);
        packet.Topic = topic;
        packet.Payload = payload;
        packet.QualityOfService = qualityOfService;
        packet.Retain = (flags & 0x01) != 0;
        packet.Duplicate = duplicate;
        return packet;
    }

    private static MqttPacket DecodeIdentifierOnly(MqttPacketType type, int flags, byte[] buffer, int start, int length)
    {
        RequireFlags(type, flags, 0);
        RequireLength(type, length, 2);
        int position = start;
        var packet = new MqttPacket(type);
        packet.PacketIdentifier = ReadIdentifier(buffer, ref position, start + 2, NameOf(type));
        return packet;
    }

    private static MqttPacket DecodeSubscribeAcknowledgment(int flags, byte[] buffer, int start, int length)
    {
        RequireFlags(MqttPacketType.SubscribeAcknowledgment, flags, 0);
        if (length < 3)
        {
            throw new MqttProtocolException("SUBACK needs a packet identifier and at least one return code, got " + length.ToString() + " bytes (section 3.9).");
        }

        int position = start;
        var packet = new MqttPacket(MqttPacketType.SubscribeAcknowledgment);
        packet.PacketIdentifier = ReadIdentifier(buffer, ref position, start + length, "SUBACK");
        byte[] codes = new byte[length - 2];
        for (int i = 0; i < codes.Length; i++)
        {
            byte code = buffer[position + i];
            if (code != 0 && code != 1 && code != 2 && code != 0x80)
            {
                throw new MqttProtocolException("SUBACK return code 0x" + code.ToString("X2") + " is reserved (section 3.9.3).");
            }

            codes[i] = code;
        }

        packet.GrantedQualities = codes;
        return packet;
    }

    private static string ReadString(byte[] buffer, ref int position, int end, string what)
    {
        if (end - position < 2)
        {
            throw new MqttProtocolException(what + ": the length prefix runs past the end of the packet.");
        }

        int length = (buffer[position] << 8) | buffer[position + 1];
        position += 2;
        if (length > end - position)
        {
            throw new MqttProtocolException(what + ": string of " + length.ToString() + " bytes runs past the end of the packet (" + (end - position).ToString() + " left).");
        }

        for (int i = position; i < position + length; i++)
        {
            if (buffer[i] == 0)
            {
                throw new MqttProtocolException(what + " contains U+0000 (section 1.5.3).");
            }
        }

        string text;
        try
        {
            text = Utf8.Decode(buffer, position, length);
        }
        catch (WireFormatException error)
        {
            throw new MqttProtocolException(what + " is not well-formed UTF-8: " + error.Message, error);
        }

        position += length;
        return text;
    }

    private static int ReadIdentifier(byte[] buffer, ref int position, int end, string what)
    {
        if (end - position < 2)
        {
            throw new MqttProtocolException(what + ": the packet identifier runs past the end of the packet.");
        }

        int identifier = (buffer[position] << 8) | buffer[position + 1];
        position += 2;
        if (identifier == 0)
        {
            throw new MqttProtocolException(what + " carries packet identifier 0, which is not allowed (section 2.3.1).");
        }

        return identifier;
    }

    private static void RequireFlags(MqttPacketType type, int flags, int expected)
    {
        if (flags != expected)
        {
            throw new MqttProtocolException(NameOf(type) + " fixed-header flags are " + flags.ToString() + ", the protocol requires " + expected.ToString() + " (section 2.2.2).");
        }
    }

    private static void RequireLength(MqttPacketType type, int length, int expected)
    {
        if (length != expected)
        {
            throw new MqttProtocolException(NameOf(type) + " has remaining length " + length.ToString() + ", the protocol requires " + expected.ToString() + ".");
        }
    }

    private static string NameOf(MqttPacketType type)
    {
        switch (type)
        {
            case MqttPacketType.ConnectAcknowledgment: return "CONNACK";
            case MqttPacketType.Publish: return "PUBLISH";
            case MqttPacketType.PublishAcknowledgment: return "PUBACK";
            case MqttPacketType.SubscribeAcknowledgment: return "SUBACK";
            case MqttPacketType.UnsubscribeAcknowledgment: return "UNSUBACK";
            case MqttPacketType.PingResponse: return "PINGRESP";
            default: return "packet type " + ((int)type).ToString();
        }
    }
}
