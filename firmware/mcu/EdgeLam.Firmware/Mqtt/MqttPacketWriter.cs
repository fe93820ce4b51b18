using EdgeLam.Contracts.Wire;

namespace EdgeLam.Firmware.Mqtt;

/// <summary>Encodes the client-to-server packets of MQTT 3.1.1 into complete byte arrays (fixed header included).</summary>
public static class MqttPacketWriter
{
    /// <summary>Protocol level of MQTT 3.1.1 (section 3.1.2.2).</summary>
    public const int ProtocolLevel = 4;

    /// <summary>DUP flag of a PUBLISH fixed header (section 3.3.1.1).</summary>
    public const int DuplicateFlag = 0x08;

    /// <summary>CONNECT with credentials and last will (section 3.1).</summary>
    public static byte[] Connect(MqttConnectOptions options)
    {
        if (options == null)
        {
            throw new System.ArgumentNullException(nameof(options));
        }

        if (options.Password != null && options.UserName == null)
        {
            throw new System.ArgumentException("MQTT 3.1.1 sends a password only with a user name (section 3.1.2.9).", nameof(options));
        }

        if (options.KeepAliveSeconds < 0 || options.KeepAliveSeconds > 65535)
        {
            throw new System.ArgumentOutOfRangeException(nameof(options), "Keep-alive must be 0..65535 seconds, got " + options.KeepAliveSeconds.ToString() + ".");
        }

        bool hasWill = options.WillTopic != null;
        if (hasWill)
        {
            CheckTopicName(options.WillTopic!);
            CheckQualityOfService(options.WillQualityOfService);
        }

        byte[] clientId = EncodeString(options.ClientId);
        byte[]? willTopic = hasWill ? EncodeString(options.WillTopic!) : null;
        byte[] willPayload = options.WillPayload ?? new byte[0];
        byte[]? userName = options.UserName != null ? EncodeString(options.UserName) : null;
        byte[]? password = options.Password != null ? EncodeString(options.Password) : null;

        int flags = 0;
        if (userName != null)
        {
            flags |= 0x80;
        }

        if (password != null)
        {
            flags |= 0x40;
        }

        if (hasWill)
        {
            flags |= 0x04 | (options.WillQualityOfService << 3);
            if (options.WillRetain)
            {
                flags |= 0x20;
            }
        }

        if (options.CleanSession)
        {
            flags |= 0x02;
        }

        int length = 10 + clientId.Length;
        if (hasWill)
        {
            length += willTopic!.Length + 2 + willPayload.Length;
        }

        length += userName != null ? userName.Length : 0;
        length += password != null ? password.Length : 0;

        byte[] packet = StartPacket(MqttPacketType.Connect, 0, length, out int position);
        position = CopyTo(EncodeString("MQTT"), packet, position);
        packet[position++] = ProtocolLevel;
        packet[position++] = (byte)flags;
        position = WriteUInt16(options.KeepAliveSeconds, packet, position);
        position = CopyTo(clientId, packet, position);
        if (hasWill)
        {
            position = CopyTo(willTopic!, packet, position);
            position = WriteUInt16(willPayload.Length, packet, position);
            position = CopyTo(willPayload, packet, position);
        }

        if (userName != null)
        {
            position = CopyTo(userName, packet, position);
        }

        if (password != null)
        {
            CopyTo(password, packet, position);
        }

        return packet;
    }

    /// <summary>PUBLISH at QoS 0 (packet id 0) or QoS 1 (packet id 1..65535) (section 3.3).</summary>
    public static byte[] Publish(string topic, byte[] payload, int qualityOfService, bool retain, bool duplicate, int packetIdentifier)
    {
        CheckTopicName(topic);
        CheckQualityOfService(qualityOfService);
        if (payload == null)
        {
            throw new System.ArgumentNullException(nameof(payload));
        }

        if (qualityOfService > 0)
        {
            CheckPacketIdentifier(packetIdentifier);
        }

        byte[] topicBytes = EncodeString(topic);
        int length = topicBytes.Length + (qualityOfService > 0 ? 2 : 0) + payload.Length;
        int flags = (qualityOfService << 1) | (retain ? 0x01 : 0) | (duplicate ? DuplicateFlag : 0);
        byte[] packet = StartPacket(MqttPacketType.Publish, flags, length, out int position);
        position = CopyTo(topicBytes, packet, position);
        if (qualityOfService > 0)
        {
            position = WriteUInt16(packetIdentifier, packet, position);
        }

        CopyTo(payload, packet, position);
        return packet;
    }

    /// <summary>PUBACK for a received QoS 1 PUBLISH (section 3.4).</summary>
    public static byte[] PublishAcknowledgment(int packetIdentifier)
    {
        CheckPacketIdentifier(packetIdentifier);
        byte[] packet = StartPacket(MqttPacketType.PublishAcknowledgment, 0, 2, out int position);
        WriteUInt16(packetIdentifier, packet, position);
        return packet;
    }

    /// <summary>SUBSCRIBE to filters at their requested QoS (section 3.8); fixed header flags are 0010.</summary>
    public static byte[] Subscribe(int packetIdentifier, string[] filters, int[] qualities)
    {
        CheckPacketIdentifier(packetIdentifier);
        if (filters == null || qualities == null || filters.Length == 0 || filters.Length != qualities.Length)
        {
            throw new System.ArgumentException("SUBSCRIBE needs at least one filter and one QoS per filter.", nameof(filters));
        }

        byte[][] encoded = new byte[filters.Length][];
        int length = 2;
        for (int i = 0; i < filters.Length; i++)
        {
            if (filters[i] == null || filters[i].Length == 0)
            {
                throw new System.ArgumentException("Topic filter " + i.ToString() + " is empty.", nameof(filters));
            }

            CheckQualityOfService(qualities[i]);
            encoded[i] = EncodeString(filters[i]);
            length += encoded[i].Length + 1;
        }

        byte[] packet = StartPacket(MqttPacketType.Subscribe, 0x02, length, out int position);
        position = WriteUInt16(packetIdentifier, packet, position);
        for (int i = 0; i < encoded.Length; i++)
        {
            position = CopyTo(encoded[i], packet, position);
            packet[position++] = (byte)qualities[i];
        }

        return packet;
    }

    /// <summary>PINGREQ (section 3.12).</summary>
    public static byte[] PingRequest()
    {
        return new byte[] { (byte)(((int)MqttPacketType.PingRequest) << 4), 0 };
    }

    /// <summary>DISCONNECT (section 3.14): the server discards the last will.</summary>
    public static byte[] Disconnect()
    {
        return new byte[] { (byte)(((int)MqttPacketType.Disconnect) << 4), 0 };
    }

    /// <summary>A UTF-8 string with its two-byte big-endian length prefix (section 1.5.3).</summary>
    public static byte[] EncodeString(string text)
    {
        if (text == null)
        {
            throw new System.ArgumentNullException(nameof(text));
        }

        byte[] utf8 = Utf8.Encode(text);
        if (utf8.Length > 65535)
        {
            throw new System.ArgumentException("An MQTT string holds at most 65535 bytes, got " + utf8.Length.ToString() + ".", nameof(text));
        }

        byte[] result = new byte[utf8.Length + 2];
        WriteUInt16(utf8.Length, result, 0);
        System.Array.Copy(utf8, 0, result, 2, utf8.Length);
        return result;
    }

    private static byte[] StartPacket(MqttPacketType type, int flags, int remainingLength, out int position)
    {
        int lengthSize = RemainingLength.EncodedSize(remainingLength);
        byte[] packet = new byte[1 + lengthSize + remainingLength];
        packet[0] = (byte)((((int)type) << 4) | flags);
        RemainingLength.Encode(remainingLength, packet, 1);
        position = 1 + lengthSize;
        return packet;
    }

    private static int CopyTo(byte[] source, byte[] destination, int position)
    {
        System.Array.Copy(source, 0, destination, position, source.Length);
        return position + source.Length;
    }

    private static int WriteUInt16(int value, byte[] destination, int position)
    {
        destination[position] = (byte)(value >> 8);
        destination[position + 1] = (byte)value;
        return position + 2;
    }

    private static void CheckTopicName(string topic)
    {
        if (topic == null || topic.Length == 0 || topic.IndexOf('+') >= 0 || topic.IndexOf('#') >= 0)
        {
            throw new System.ArgumentException("A topic name must be non-empty and free of the wildcards '+' and '#' (section 4.7), got '" + topic + "'.", nameof(topic));
        }
    }

    private static void CheckQualityOfService(int qualityOfService)
    {
        if (qualityOfService < 0 || qualityOfService > 1)
        {
            throw new System.ArgumentOutOfRangeException(nameof(qualityOfService), "This client sends QoS 0 or 1, got " + qualityOfService.ToString() + ".");
        }
    }

    private static void CheckPacketIdentifier(int packetIdentifier)
    {
        if (packetIdentifier < 1 || packetIdentifier > 65535)
        {
            throw new System.ArgumentOutOfRangeException(nameof(packetIdentifier), "A packet identifier is 1..65535 (section 2.3.1), got " + packetIdentifier.ToString() + ".");
        }
    }
}
