using System.Buffers;
using System.Net.Sockets;
using System.Text;
using EdgeLam.Contracts.Messages;
using EdgeLam.Contracts.Wire;
using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Protocol;

namespace EdgeLam.Reliability;

/// <summary>
/// A misbehaving device on a plain MQTTnet client: it says hello like a Raspberry Pi and counts what it publishes
/// and the rejections the gateway sends back; what it does with an assignment is up to the scenario.
/// </summary>
public sealed class ScriptedDevice : IAsyncDisposable
{
    private readonly IMqttClient _client;
    private readonly TaskCompletionSource<TrainingAssignment> _assigned = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _updatesPublished;
    private long _rejections;

    private ScriptedDevice(IMqttClient client, string deviceId)
    {
        _client = client;
        DeviceId = deviceId;
    }

    public string DeviceId { get; }

    /// <summary>Updates the broker acknowledged with a subscriber present (a complete PUBLISH reached the gateway's subscription).</summary>
    public long UpdatesPublished => Interlocked.Read(ref _updatesPublished);

    /// <summary>Rejections the gateway published on this device's rejected topic.</summary>
    public long RejectionsReceived => Interlocked.Read(ref _rejections);

    /// <summary>The first assignment it received.</summary>
    public Task<TrainingAssignment> Assigned => _assigned.Task;

    public static async Task<ScriptedDevice> ConnectAsync(string deviceId, int port)
    {
        var client = new MqttClientFactory().CreateMqttClient();
        var device = new ScriptedDevice(client, deviceId);
        client.ApplicationMessageReceivedAsync += device.OnMessageAsync;
        var result = await client.ConnectAsync(new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", port)
            .WithClientId(deviceId).WithCredentials(deviceId, GatewayUnderTest.DevicePassword).WithProtocolVersion(MqttProtocolVersion.V500)
            .WithWillTopic(Topics.Device(deviceId, DeviceTopic.Status)).WithWillRetain()
            .WithWillPayload(WireMessages.Encode(new DeviceStatus { State = PresenceState.Offline, Reason = "last-will" }))
            .WithTimeout(TimeSpan.FromSeconds(10)).Build()).ConfigureAwait(false);
        if (result.ResultCode != MqttClientConnectResultCode.Success)
            throw new InvalidOperationException($"{deviceId} could not connect: {result.ResultCode} {result.ReasonString}");
        await client.SubscribeAsync(new MqttClientSubscribeOptionsBuilder().WithTopicFilter(Topics.DeviceSubtree(deviceId), MqttQualityOfServiceLevel.AtLeastOnce).Build()).ConfigureAwait(false);
        await device.PublishAsync(DeviceTopic.Hello, WireMessages.Encode(Hello(deviceId))).ConfigureAwait(false);
        return device;
    }

    /// <summary>Publishes at QoS 1; an update counts as published when a subscriber took it.</summary>
    public async Task PublishAsync(DeviceTopic leaf, byte[] payload)
    {
        var result = await _client.PublishAsync(new MqttApplicationMessageBuilder().WithTopic(Topics.Device(DeviceId, leaf)).WithPayload(payload)
            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build()).ConfigureAwait(false);
        if (leaf == DeviceTopic.Update && result.ReasonCode == MqttClientPublishReasonCode.Success) Interlocked.Increment(ref _updatesPublished);
    }

    /// <summary>
    /// Crashes in the middle of an upload: the MQTT connection is dropped without DISCONNECT, then a fresh connection
    /// sends the PUBLISH header and the first <paramref name="fraction"/> of the update and dies.
    /// </summary>
    public async Task CrashMidUploadAsync(int port, byte[] update, double fraction)
    {
        _client.Dispose();
        using var socket = new TcpClient();
        await socket.ConnectAsync("127.0.0.1", port).ConfigureAwait(false);
        var stream = socket.GetStream();
        await stream.WriteAsync(MqttV311.Connect(DeviceId, DeviceId, GatewayUnderTest.DevicePassword)).ConfigureAwait(false);
        var connack = new byte[4];
        await stream.ReadExactlyAsync(connack).ConfigureAwait(false);
        if (connack[0] != 0x20 || connack[3] != 0)
            throw new InvalidOperationException($"{DeviceId}: CONNACK {Convert.ToHexString(connack)}");
        var publish = MqttV311.PublishAtLeastOnce(Topics.Device(DeviceId, DeviceTopic.Update), 1, update);
        var cut = publish.Length - update.Length + (int)(update.Length * fraction);
        await stream.WriteAsync(publish.AsMemory(0, cut)).ConfigureAwait(false);
        await stream.FlushAsync().ConfigureAwait(false);
        socket.Client.Close(0);
    }

    public static DeviceHello Hello(string deviceId) => new()
    {
        DeviceId = deviceId,
        BoardId = "raspberry-pi-4",
        Tier = DeviceTier.M,
        FirmwareVersion = "scripted",
        ProtocolVersion = DeviceHello.CurrentProtocolVersion,
        Precisions = [Precision.Fp32, Precision.Fp16, Precision.Int8],
        MaxLoraRank = 8,
        MemoryBytes = 1 << 26,
        FlashBytes = 1 << 28,
        MacsPerSecond = 2e9,
    };

    private Task OnMessageAsync(MqttApplicationMessageReceivedEventArgs e)
    {
        if (!Topics.TryParseDevice(e.ApplicationMessage.Topic, out _, out var leaf)) return Task.CompletedTask;
        if (leaf == DeviceTopic.Rejected) Interlocked.Increment(ref _rejections);
        if (leaf == DeviceTopic.Assign)
        {
            try { _assigned.TrySetResult(WireMessages.Decode<TrainingAssignment>(e.ApplicationMessage.Payload.ToArray())); }
            catch (WireFormatException ex) { _assigned.TrySetException(ex); }
        }

        return Task.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (_client.IsConnected) await _client.DisconnectAsync().ConfigureAwait(false);
        }
        catch (ObjectDisposedException) { }

        _client.Dispose();
    }
}

/// <summary>The two MQTT 3.1.1 packets a crashing device writes by hand (OASIS MQTT 3.1.1, sections 3.1 and 3.3).</summary>
internal static class MqttV311
{
    public static byte[] Connect(string clientId, string user, string password)
    {
        var body = new List<byte> { 0, 4, (byte)'M', (byte)'Q', (byte)'T', (byte)'T', 4, 0xC2, 0, 60 };
        foreach (var text in new[] { clientId, user, password }) AddString(body, text);
        return Packet(0x10, body);
    }

    public static byte[] PublishAtLeastOnce(string topic, ushort packetId, byte[] payload)
    {
        var body = new List<byte>();
        AddString(body, topic);
        body.Add((byte)(packetId >> 8));
        body.Add((byte)packetId);
        body.AddRange(payload);
        return Packet(0x32, body);
    }

    private static void AddString(List<byte> body, string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        body.Add((byte)(bytes.Length >> 8));
        body.Add((byte)bytes.Length);
        body.AddRange(bytes);
    }

    private static byte[] Packet(byte header, List<byte> body)
    {
        var packet = new List<byte> { header };
        var length = body.Count;
        do
        {
            var digit = (byte)(length % 128);
            length /= 128;
            packet.Add(length > 0 ? (byte)(digit | 0x80) : digit);
        }
        while (length > 0);
        packet.AddRange(body);
        return [.. packet];
    }
}
