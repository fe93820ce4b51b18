namespace EdgeLam.Firmware.Mqtt;

/// <summary>The variable-length "remaining length" of the fixed header (MQTT 3.1.1 section 2.2.3): 1..4 bytes, 7 bits each.</summary>
public static class RemainingLength
{
    /// <summary>Largest value four bytes can carry: 268 435 455.</summary>
    public const int Maximum = 268435455;

    /// <summary>Bytes the encoding of a value takes.</summary>
    public static int EncodedSize(int value)
    {
        Check(value);
        return value < 128 ? 1 : value < 16384 ? 2 : value < 2097152 ? 3 : 4;
    }

    /// <summary>Writes the encoding at offset and returns the bytes written.</summary>
    public static int Encode(int value, byte[] destination, int offset)
    {
        Check(value);
        int written = 0;
        do
        {
            int digit = value % 128;
            value /= 128;
            if (value > 0)
            {
                digit |= 0x80;
            }

            destination[offset + written] = (byte)digit;
            written++;
        }
        while (value > 0);
        return written;
    }

    /// <summary>
    /// Decodes from buffer[offset, end). Returns false when more bytes are needed; a fifth continuation byte is a
    /// <see cref="MqttProtocolException"/>.
    /// </summary>
    public static bool TryDecode(byte[] buffer, int offset, int end, out int value, out int size)
    {
        value = 0;
        size = 0;
        int multiplier = 1;
        while (true)
        {
            if (size == 4)
            {
                throw new MqttProtocolException("Malformed remaining length: a fifth length byte follows four continuation bytes.");
            }

            if (offset + size >= end)
            {
                return false;
            }

            int encoded = buffer[offset + size];
            size++;
            value += (encoded & 0x7F) * multiplier;
            multiplier *= 128;
            if ((encoded & 0x80) == 0)
            {
                return true;
            }
        }
    }

    private static void Check(int value)
    {
        if (value < 0 || value > Maximum)
        {
            throw new System.ArgumentOutOfRangeException(nameof(value), "MQTT remaining length must be 0.." + Maximum.ToString() + ", got " + value.ToString() + ".");
        }
    }
}
