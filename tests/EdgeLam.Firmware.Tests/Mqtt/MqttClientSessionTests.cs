using EdgeLam.Firmware.Mqtt;

namespace EdgeLam.Firmware.Tests.Mqtt;

/// <summary>Timers and failure paths of the client against a scripted broker: DUP retransmission, keep-alive, bad packets.</summary>
public sealed class MqttClientSessionTests
{
    private static readonly byte[] Accepted = [0x20, 0x02, 0x00, 0x00];

    private static (MqttClient Client, ScriptedTransport Transport, ManualClock Clock, RecordingHandler Handler) Connected()
    {
        var transport = new ScriptedTransport();
        var clock = new ManualClock();
        var handler = new RecordingHandler();
        var client = new MqttClient(transport, clock, handler, 256, 2) { RetransmitTimeoutMilliseconds = 1000, ResponseTimeoutMilliseconds = 2000 };
        transport.Enqueue(Accepted);
        client.Connect(new MqttConnectOptions("esp-1") { KeepAliveSeconds = 10 });
        return (client, transport, clock, handler);
    }

    [Fact]
    public void An_unacknowledged_qos1_publish_is_sent_again_with_dup_after_the_timeout_and_freed_by_puback()
    {
        var (client, transport, clock, _) = Connected();
        var id = client.Publish("edgelam/v1/devices/esp-1/update", [1, 2, 3], 1, false);
        Assert.Equal(0x32, transport.Written[^1][0]);

        clock.MonotonicMilliseconds += 500;
        client.Poll(0);
        Assert.Equal(2, transport.Written.Count);

        clock.MonotonicMilliseconds += 600;
        client.Poll(0);
        Assert.Equal(3, transport.Written.Count);
        Assert.Equal(0x3A, transport.Written[^1][0]);
        Assert.Equal(transport.Written[1][1..], transport.Written[2][1..]);
        Assert.Equal(1, client.RetransmissionCount);

        transport.Enqueue(0x40, 0x02, (byte)(id >> 8), (byte)id);
        client.Poll(0);
        Assert.Equal(0, client.PendingPublishCount);
    }

    [Fact]
    public void Reconnect_resends_the_outbox_with_dup()
    {
        var (client, transport, _, handler) = Connected();
        client.Publish("edgelam/v1/devices/esp-1/update", [9], 1, false);
        transport.ClosedByPeer = true;
        client.Poll(0);
        Assert.False(client.IsConnected);
        Assert.Contains("closed the connection", Assert.Single(handler.Losses), StringComparison.Ordinal);

        transport.Enqueue(Accepted);
        client.Reconnect();
        Assert.Equal(2, transport.OpenCount);
        Assert.Equal(0x3A, transport.Written[^1][0]);
        Assert.Equal(1, client.PendingPublishCount);
    }

    [Fact]
    public void Keep_alive_pings_and_a_missing_pingresp_ends_the_connection()
    {
        var (client, transport, clock, handler) = Connected();
        clock.MonotonicMilliseconds += 7_600;
        client.Poll(0);
        Assert.Equal([0xC0, 0x00], transport.Written[^1]);
        clock.MonotonicMilliseconds += 2_500;
        client.Poll(0);
        Assert.False(client.IsConnected);
        Assert.Contains("no PINGRESP", handler.Losses.Single(), StringComparison.Ordinal);
    }

    [Fact]
    public void A_qos1_publish_from_the_server_is_delivered_and_acknowledged()
    {
        var (client, transport, _, handler) = Connected();
        // PUBLISH QoS 1, topic "a/b", id 7, payload "hi", split across two reads.
        transport.Enqueue(0x32, 0x09, 0x00, 0x03, (byte)'a', (byte)'/');
        transport.Enqueue((byte)'b', 0x00, 0x07, (byte)'h', (byte)'i');
        client.Poll(0);
        client.Poll(0);
        var message = Assert.Single(handler.Messages);
        Assert.Equal("a/b", message.Topic);
        Assert.Equal("hi"u8.ToArray(), message.Payload);
        Assert.Equal([0x40, 0x02, 0x00, 0x07], transport.Written[^1]);
    }

    [Fact]
    public void A_malformed_packet_closes_the_connection_with_a_clear_reason()
    {
        var (client, transport, _, handler) = Connected();
        transport.Enqueue(0x60, 0x02, 0x00, 0x01);
        client.Poll(0);
        Assert.False(client.IsConnected);
        Assert.Contains("protocol error: Packet type 6 belongs to QoS 2", handler.Losses.Single(), StringComparison.Ordinal);
        Assert.Throws<MqttConnectionException>(() => client.Publish("a", [], 0, false));
    }

    [Fact]
    public void A_packet_larger_than_the_receive_buffer_is_refused_before_it_arrives()
    {
        var (client, transport, _, handler) = Connected();
        transport.Enqueue(0x30, 0xFF, 0x7F);
        client.Poll(0);
        Assert.Contains("Packet of 16386 bytes exceeds the receive buffer of 256 bytes", handler.Losses.Single(), StringComparison.Ordinal);
    }

    [Fact]
    public void A_refused_connect_names_the_return_code()
    {
        var transport = new ScriptedTransport();
        transport.Enqueue(0x20, 0x02, 0x00, 0x05);
        var client = new MqttClient(transport, new ManualClock(), new RecordingHandler(), 64, 1);
        var error = Assert.Throws<MqttConnectionException>(() => client.Connect(new MqttConnectOptions("esp-1")));
        Assert.Equal("broker refused the connection: not authorized", error.Message);
    }
}
