using CsCheck;
using EdgeLam.Firmware.Mqtt;

namespace EdgeLam.Firmware.Tests.Mqtt;

/// <summary>Properties of the firmware's MQTT packet parser: encode→decode round trips, and packets split anywhere parse the same.</summary>
public sealed class MqttPacketProperties
{
    private static readonly Gen<string> TopicLevel = Gen.Char["abcdefghijklmnopqrstuvwxyz0123456789_-.é€"].Array[1, 12].Select(chars => new string(chars));

    private static readonly Gen<string> Topic = TopicLevel.Array[1, 6].Select(levels => string.Join('/', levels));

    /// <summary>A PUBLISH as the broker sends it: topic, payload up to 3 KiB (multi-byte remaining lengths), QoS 0/1, flags.</summary>
    private static readonly Gen<(string Topic, byte[] Payload, int Qos, bool Retain, bool Duplicate, int Id)> Publish =
        Gen.Select(Topic, Gen.Byte.Array[0, 3000], Gen.Int[0, 1], Gen.Bool, Gen.Bool, Gen.Int[1, 65535],
            (topic, payload, qos, retain, duplicate, id) => (topic, payload, qos, retain, duplicate && qos > 0, qos > 0 ? id : 0));

    [Fact]
    public void A_publish_the_writer_encodes_decodes_to_the_same_topic_payload_and_flags() =>
        Publish.Sample(p =>
        {
            var packet = MqttPacketWriter.Publish(p.Topic, p.Payload, p.Qos, p.Retain, p.Duplicate, p.Id);
            Assert.True(MqttPacketReader.TryRead(packet, 0, packet.Length, packet.Length, out var parsed, out var consumed));
            Assert.Equal(packet.Length, consumed);
            Assert.Equal((MqttPacketType.Publish, p.Topic, p.Qos, p.Retain, p.Duplicate, p.Id),
                (parsed!.Type, parsed.Topic, parsed.QualityOfService, parsed.Retain, parsed.Duplicate, parsed.PacketIdentifier));
            Assert.Equal(p.Payload, parsed.Payload);
        }, iter: 500);

    [Fact]
    public void A_stream_of_packets_split_at_arbitrary_points_parses_to_the_same_packets() =>
        Gen.Select(Publish.Array[1, 4], Gen.Int[1, 700].Array[1, 20]).Sample((publishes, cuts) =>
        {
            byte[] stream = [.. publishes.SelectMany(p => MqttPacketWriter.Publish(p.Topic, p.Payload, p.Qos, p.Retain, p.Duplicate, p.Id)), 0xD0, 0x00];
            var buffer = new MqttReceiveBuffer(16 * 1024);
            var parsed = new List<MqttPacket>();
            var offset = 0;
            var cut = 0;
            while (offset < stream.Length)
            {
                var length = Math.Min(cuts[cut++ % cuts.Length], stream.Length - offset);
                buffer.Append(stream, offset, length);
                offset += length;
                while (buffer.TakePacket() is { } packet) parsed.Add(packet);
            }

            Assert.Equal(0, buffer.Count);
            Assert.Equal(publishes.Length + 1, parsed.Count);
            Assert.Equal(MqttPacketType.PingResponse, parsed[^1].Type);
            for (var i = 0; i < publishes.Length; i++)
            {
                Assert.Equal(publishes[i].Topic, parsed[i].Topic);
                Assert.Equal(publishes[i].Payload, parsed[i].Payload);
            }
        }, iter: 300);

    [Fact]
    public void Mutated_valid_packets_give_packets_incomplete_input_or_the_protocol_error_only() =>
        Gen.Select(Publish, Gen.Int[0, 4095], Gen.Byte, Gen.Int[0, 8], (p, position, value, truncate) => (p, position, value, truncate)).Sample(c =>
        {
            var (p, position, value, truncate) = c;
            var packet = MqttPacketWriter.Publish(p.Topic, p.Payload, p.Qos, p.Retain, p.Duplicate, p.Id);
            packet[position % packet.Length] = value;
            var length = Math.Max(0, packet.Length - truncate);
            try
            {
                var offset = 0;
                while (offset < length && MqttPacketReader.TryRead(packet, offset, length - offset, 64 * 1024, out var parsed, out var consumed))
                {
                    Assert.True(consumed > 0 && Enum.IsDefined(parsed!.Type));
                    offset += consumed;
                }
            }
            catch (MqttProtocolException)
            {
            }
        }, iter: 3000);
}
