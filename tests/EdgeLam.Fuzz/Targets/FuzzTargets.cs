using System.Text;
using EdgeLam.Contracts.Messages;
using EdgeLam.Contracts.Wire;
using EdgeLam.Contracts.Wire.Json;
using EdgeLam.Firmware.Mqtt;
using EdgeLam.Fuzz.Engine;

namespace EdgeLam.Fuzz.Targets;

/// <summary>The decoders under fuzzing, each seeded from the golden vectors.</summary>
public static class FuzzTargets
{
    /// <summary>Target names accepted on the command line.</summary>
    public static readonly string[] Names = ["frame", "bundle", "message", "mqtt"];

    /// <summary>The target called <paramref name="name"/>, seeded from <paramref name="goldenDirectory"/>.</summary>
    public static FuzzTarget Create(string name, string goldenDirectory) => name switch
    {
        "frame" => Frame(goldenDirectory),
        "bundle" => Bundle(goldenDirectory),
        "message" => Message(goldenDirectory),
        "mqtt" => MqttPacket(goldenDirectory),
        _ => throw new ArgumentException($"unknown fuzz target '{name}'; known: {string.Join(", ", Names)}", nameof(name)),
    };

    /// <summary>
    /// The tensor frame decoder; an accepted frame must re-encode to the identical bytes (WIRE.md section 7), so a
    /// frame that decodes but does not round-trip is a finding too.
    /// </summary>
    public static FuzzTarget Frame(string goldenDirectory) => new("frame", GoldenSeeds.Read(goldenDirectory, "frames"), data =>
    {
        var frame = TensorFrameCodec.Decode(data);
        RequireRoundTrip(data, TensorFrameCodec.Encode(frame), "tensor frame");
    }, typeof(WireFormatException));

    /// <summary>The tensor bundle decoder and every bundle-header message decoder over it.</summary>
    public static FuzzTarget Bundle(string goldenDirectory) => new("bundle", GoldenSeeds.Read(goldenDirectory, "bundles"), data =>
    {
        var bundle = TensorBundleCodec.Decode(data);
        RequireRoundTrip(data, TensorBundleCodec.Encode(bundle), "tensor bundle");
        foreach (var decode in WireMessageTypes.Bundles.Values)
        {
            try { decode(data); }
            catch (WireFormatException) { } // a bundle is valid for one header type at most
        }
    }, typeof(WireFormatException), MaximumInputBytes: 256 * 1024);

    /// <summary>The portable JSON reader (device side) and the validating decoder of every message type (gateway side).</summary>
    public static FuzzTarget Message(string goldenDirectory) => new("message", GoldenSeeds.Read(goldenDirectory, "messages"), data =>
    {
        var refusals = 0;
        try { JsonReader.Parse(data); }
        catch (WireFormatException) { refusals++; }
        foreach (var decode in WireMessageTypes.Messages.Values)
        {
            try { decode(data); }
            catch (WireFormatException) { refusals++; }
        }

        // Refused by every decoder: report it as the documented refusal so the engine counts it as one.
        if (refusals == WireMessageTypes.Messages.Count + 1)
            throw new WireFormatException(WireErrorCode.MalformedJson, "document", "refused by every message decoder");
    }, typeof(WireFormatException));

    /// <summary>
    /// The firmware's MQTT 3.1.1 packet parser, through the bounded receive buffer the client uses and directly;
    /// seeded with server packets carrying golden messages and bundles as payloads.
    /// </summary>
    public static FuzzTarget MqttPacket(string goldenDirectory)
    {
        var topic = Encoding.UTF8.GetBytes("edgelam/v1/devices/esp-1/assign");
        var message = GoldenSeeds.Read(goldenDirectory, "messages")[0];
        var bundle = GoldenSeeds.Read(goldenDirectory, "bundles")[0];
        byte[][] packets =
        [
            [0x20, 0x02, 0x00, 0x00],
            [0x20, 0x02, 0x01, 0x05],
            Publish(0x30, topic, null, message),
            Publish(0x32, topic, 7, message),
            Publish(0x3B, topic, 65535, bundle),
            [0x40, 0x02, 0x00, 0x01],
            [0x90, 0x05, 0x00, 0x02, 0x00, 0x01, 0x80],
            [0xB0, 0x02, 0x12, 0x34],
            [0xD0, 0x00],
        ];
        byte[][] streams = [.. packets, [.. packets[0], .. packets[3], .. packets[5], .. packets[8]]];
        return new FuzzTarget("mqtt", streams, data =>
        {
            var buffer = new MqttReceiveBuffer(4096);
            buffer.Append(data, 0, Math.Min(data.Length, buffer.Capacity));
            while (buffer.TakePacket() is not null) { }
            var offset = 0;
            while (offset < data.Length && MqttPacketReader.TryRead(data, offset, data.Length - offset, 1 << 20, out _, out var consumed))
                offset += consumed;
        }, typeof(MqttProtocolException), MaximumInputBytes: 256 * 1024);
    }

    private static byte[] Publish(byte header, byte[] topic, int? packetIdentifier, byte[] payload)
    {
        var body = new List<byte> { (byte)(topic.Length >> 8), (byte)topic.Length };
        body.AddRange(topic);
        if (packetIdentifier is { } id) body.AddRange([(byte)(id >> 8), (byte)id]);
        body.AddRange(payload);
        var packet = new List<byte> { header };
        var remaining = body.Count;
        do
        {
            var digit = (byte)(remaining % 128);
            remaining /= 128;
            packet.Add(remaining > 0 ? (byte)(digit | 0x80) : digit);
        }
        while (remaining > 0);
        packet.AddRange(body);
        return [.. packet];
    }

    private static void RequireRoundTrip(byte[] input, byte[] encoded, string what)
    {
        if (!input.AsSpan().SequenceEqual(encoded))
            throw new InvalidOperationException($"an accepted {what} of {input.Length} bytes re-encodes to {encoded.Length} different bytes");
    }
}
