namespace EdgeLam.Firmware.Mqtt;

/// <summary>
/// QoS 1 publishes sent and not yet acknowledged, in a fixed number of slots: each keeps its encoded packet so it can
/// be sent again with the DUP flag after a timeout or a reconnect (MQTT 3.1.1 section 4.4).
/// </summary>
public sealed class PendingPublishTable
{
    private readonly int[] identifiers;
    private readonly byte[]?[] packets;
    private readonly long[] sentAtMilliseconds;

    /// <summary>A table with a number of slots.</summary>
    public PendingPublishTable(int slots)
    {
        if (slots < 1)
        {
            throw new System.ArgumentOutOfRangeException(nameof(slots), "The outbox needs at least one slot, got " + slots.ToString() + ".");
        }

        identifiers = new int[slots];
        packets = new byte[]?[slots];
        sentAtMilliseconds = new long[slots];
    }

    /// <summary>Slots in use.</summary>
    public int Count
    {
        get
        {
            int used = 0;
            for (int i = 0; i < identifiers.Length; i++)
            {
                if (identifiers[i] != 0)
                {
                    used++;
                }
            }

            return used;
        }
    }

    /// <summary>Slots in all.</summary>
    public int Capacity => identifiers.Length;

    /// <summary>True when the identifier waits for its PUBACK.</summary>
    public bool Contains(int packetIdentifier)
    {
        return IndexOf(packetIdentifier) >= 0;
    }

    /// <summary>Stores a sent packet; false when every slot is taken.</summary>
    public bool TryAdd(int packetIdentifier, byte[] packet, long nowMilliseconds)
    {
        int free = IndexOf(0);
        if (free < 0)
        {
            return false;
        }

        identifiers[free] = packetIdentifier;
        packets[free] = packet;
        sentAtMilliseconds[free] = nowMilliseconds;
        return true;
    }

    /// <summary>Frees the slot of an acknowledged identifier; false when it was not pending.</summary>
    public bool Remove(int packetIdentifier)
    {
        int index = IndexOf(packetIdentifier);
        if (index < 0)
        {
            return false;
        }

        identifiers[index] = 0;
        packets[index] = null;
        return true;
    }

    /// <summary>
    /// The packet of the next slot (from index) sent before the cutoff, marked DUP and re-stamped; null when none.
    /// Pass a cutoff of long.MaxValue to take every pending packet (after a reconnect).
    /// </summary>
    public byte[]? TakeDueForResend(ref int index, long cutoffMilliseconds, long nowMilliseconds)
    {
        for (; index < identifiers.Length; index++)
        {
            if (identifiers[index] != 0 && sentAtMilliseconds[index] <= cutoffMilliseconds)
            {
                byte[] packet = packets[index]!;
                packet[0] = (byte)(packet[0] | MqttPacketWriter.DuplicateFlag);
                sentAtMilliseconds[index] = nowMilliseconds;
                index++;
                return packet;
            }
        }

        return null;
    }

    private int IndexOf(int packetIdentifier)
    {
        for (int i = 0; i < identifiers.Length; i++)
        {
            if (identifiers[i] == packetIdentifier)
            {
                return i;
            }
        }

        return -1;
    }
}
