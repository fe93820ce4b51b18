using CsCheck;
using EdgeLam.Firmware.Mqtt;

namespace EdgeLam.Firmware.Tests.Mqtt;

/// <summary>Byte-level MQTT 3.1.1 encoding and the parser's refusal of anything malformed.</summary>
public sealed class MqttPacketCodecTests
{
    [Theory]
    [InlineData(0, new byte[] { 0x00 })]
    [InlineData(127, new byte[] { 0x7F })]
    [InlineData(128, new byte[] { 0x80, 0x01 })]
    [InlineData(16_383, new byte[] { 0xFF, 0x7F })]
    [InlineData(16_384, new byte[] { 0x80, 0x80, 0x01 })]
    [InlineData(268_435_455, new byte[] { 0xFF, 0xFF, 0xFF, 0x7F })]
    public void Remaining_length_matches_the_examples_of_section_2_2_3(int value, byte[] expected)
    {
        var buffer = new byte[4];
        Assert.Equal(expected.Length, RemainingLength.Encode(value, buffer, 0));
        Assert.Equal(expected, buffer[..expected.Length]);
        Assert.True(RemainingLength.TryDecode(buffer, 0, expected.Length, out var decoded, out var size));
        Assert.Equal((value, expected.Length), (decoded, size));
    }

    [Fact]
    public void A_fifth_length_byte_is_a_protocol_error()
    {
        var error = Assert.Throws<MqttProtocolException>(() => RemainingLength.TryDecode([0xFF, 0xFF, 0xFF, 0xFF, 0x01], 0, 5, out _, out _));
        Assert.Contains("fifth length byte", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Connect_carries_credentials_and_last_will_in_order()
    {
        var packet = MqttPacketWriter.Connect(new MqttConnectOptions("d") { UserName = "u", Password = "p", KeepAliveSeconds = 60, WillTopic = "w", WillPayload = [0xAA], WillQualityOfService = 1, WillRetain = true });
        byte[] expected =
        [
            0x10, 25, 0, 4, (byte)'M', (byte)'Q', (byte)'T', (byte)'T', 4, 0x80 | 0x40 | 0x20 | 0x08 | 0x04 | 0x02, 0, 60,
            0, 1, (byte)'d', 0, 1, (byte)'w', 0, 1, 0xAA, 0, 1, (byte)'u', 0, 1, (byte)'p',
        ];
        Assert.Equal(expected, packet);
    }

    [Fact]
    public void Subscribe_publish_and_puback_follow_the_fixed_headers_of_the_standard()
    {
        Assert.Equal(new byte[] { 0x82, 6, 0, 5, 0, 1, (byte)'t', 1 }, MqttPacketWriter.Subscribe(5, ["t"], [1]));
        Assert.Equal(new byte[] { 0x33, 6, 0, 1, (byte)'t', 0x01, 0x02, 0xEE }, MqttPacketWriter.Publish("t", [0xEE], 1, true, false, 0x0102));
        Assert.Equal(new byte[] { 0x40, 2, 0xFF, 0xFF }, MqttPacketWriter.PublishAcknowledgment(65535));
        Assert.Throws<ArgumentException>(() => MqttPacketWriter.Publish("a/+", [], 0, false, false, 0));
    }

    [Theory]
    [InlineData(new byte[] { 0x20, 0x02, 0x02, 0x00 }, "reserved bits")]
    [InlineData(new byte[] { 0x20, 0x02, 0x00, 0x09 }, "return code 9 is reserved")]
    [InlineData(new byte[] { 0x36, 0x05, 0x00, 0x01, (byte)'a', 0x00, 0x01 }, "both QoS bits")]
    [InlineData(new byte[] { 0x30, 0x03, 0x00, 0x01, (byte)'#' }, "wildcard")]
    [InlineData(new byte[] { 0x30, 0x03, 0x00, 0x05, (byte)'a' }, "runs past the end")]
    [InlineData(new byte[] { 0x30, 0x04, 0x00, 0x02, 0xC0, 0x80 }, "not well-formed UTF-8")]
    [InlineData(new byte[] { 0x32, 0x05, 0x00, 0x01, (byte)'a', 0x00, 0x00 }, "packet identifier 0")]
    [InlineData(new byte[] { 0x90, 0x03, 0x00, 0x01, 0x03 }, "SUBACK return code 0x03")]
    [InlineData(new byte[] { 0xD1, 0x00 }, "PINGRESP fixed-header flags")]
    [InlineData(new byte[] { 0x10, 0x00 }, "sent by clients only")]
    [InlineData(new byte[] { 0xF0, 0x00 }, "reserved")]
    public void Malformed_server_packets_get_a_specific_protocol_error(byte[] packet, string expected)
    {
        var error = Assert.Throws<MqttProtocolException>(() => MqttPacketReader.TryRead(packet, 0, packet.Length, 1024, out _, out _));
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Random_bytes_into_the_parser_give_packets_incomplete_input_or_its_own_error_only()
    {
        Gen.Byte.Array[0, 64].Sample(bytes =>
        {
            var buffer = new MqttReceiveBuffer(48);
            try
            {
                buffer.Append(bytes, 0, Math.Min(bytes.Length, 48));
                while (buffer.TakePacket() is { } packet)
                    Assert.True(Enum.IsDefined(packet.Type));
            }
            catch (MqttProtocolException)
            {
            }
        }, iter: 20_000);
    }

    [Fact]
    public void Valid_server_headers_with_random_bodies_never_escape_the_parser()
    {
        byte[] serverHeaders = [0x20, 0x30, 0x32, 0x33, 0x39, 0x40, 0x90, 0xB0, 0xD0];
        var headers = Gen.Int[0, serverHeaders.Length - 1].Select(i => serverHeaders[i]);
        Gen.Select(headers, Gen.Byte.Array[0, 40]).Sample((header, body) =>
        {
            byte[] packet = [header, (byte)body.Length, .. body];
            try
            {
                Assert.True(MqttPacketReader.TryRead(packet, 0, packet.Length, 64, out var parsed, out var consumed));
                Assert.Equal(packet.Length, consumed);
                Assert.NotNull(parsed);
            }
            catch (MqttProtocolException)
            {
            }
        }, iter: 20_000);
    }
}
