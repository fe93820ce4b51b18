using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using EdgeLam.Contracts.Wire;

namespace EdgeLam.Cli.Monitoring;

/// <summary>What the payload of one message turned out to be.</summary>
public enum PayloadKind
{
    /// <summary>A UTF-8 JSON document (WIRE.md section 5).</summary>
    Json,
    /// <summary>A tensor bundle, ELTB (section 3).</summary>
    Bundle,
    /// <summary>A single tensor frame, ELTF (section 2).</summary>
    Frame,
    /// <summary>Empty (e.g. a cleared retained message).</summary>
    Empty,
    /// <summary>Bytes that follow none of the above; shown as a size and the decoder's reason.</summary>
    Undecodable,
}

/// <summary>One message as the monitor shows it: a headline and indented detail lines; rejections are flagged for highlighting.</summary>
public sealed record DecodedMessage(string Topic, PayloadKind Kind, int PayloadBytes, bool IsRejection, string Headline, IReadOnlyList<string> Details);

/// <summary>
/// Decodes traffic under edgelam/v1/ for people: JSON pretty-printed (long strings such as inline models shortened),
/// tensor bundles and frames summarized (dtype, shape, bytes, quantization scales), rejections recognized by topic or event kind.
/// </summary>
public static class TrafficDecoder
{
    /// <summary>Strings longer than this are shown by their length (an inline model is tens of kilobytes of base64).</summary>
    public const int LongestStringShown = 96;

    /// <summary>Decodes <paramref name="payload"/> received on <paramref name="topic"/>; never throws for bad payloads.</summary>
    public static DecodedMessage Decode(string topic, byte[] payload)
    {
        ArgumentNullException.ThrowIfNull(topic);
        ArgumentNullException.ThrowIfNull(payload);
        if (payload.Length == 0) return new DecodedMessage(topic, PayloadKind.Empty, 0, false, "(empty)", []);
        if (StartsWith(payload, TensorBundleCodec.Magic)) return DecodeBundle(topic, payload);
        if (StartsWith(payload, TensorFrameCodec.Magic)) return DecodeFrame(topic, payload);
        return DecodeJson(topic, payload);
    }

    /// <summary>One line about a tensor frame: dtype, shape, payload bytes and its quantization.</summary>
    public static string Describe(TensorFrame frame)
    {
        ArgumentNullException.ThrowIfNull(frame);
        var text = $"{TensorFrame.DataTypeName(frame.DataType)} {TensorFrame.ShapeText(frame.Shape)}, {frame.Payload.Length} bytes";
        return frame.Quantization switch
        {
            QuantizationKind.PerTensor => text + $", per-tensor scale {Number(frame.Scales[0])} zero point {frame.ZeroPoints[0]}",
            QuantizationKind.PerChannel => text + $", per-channel axis {frame.QuantizationAxis}, {frame.Scales.Length} scales {Number(frame.Scales.Min())}..{Number(frame.Scales.Max())}",
            _ => text,
        };
    }

    private static DecodedMessage DecodeBundle(string topic, byte[] payload)
    {
        TensorBundle bundle;
        try
        {
            bundle = TensorBundleCodec.Decode(payload);
        }
        catch (WireFormatException exception)
        {
            return Undecodable(topic, payload, "bundle", exception.Message);
        }

        var details = new List<string>();
        details.AddRange(PrettyJson(bundle.HeaderJson) ?? ["header: " + Encoding.UTF8.GetString(bundle.HeaderJson)]);
        for (int i = 0; i < bundle.Count; i++)
            details.Add($"{bundle.GetName(i)}: {Describe(bundle.GetFrame(i))}");
        return new DecodedMessage(topic, PayloadKind.Bundle, payload.Length, IsRejectionTopic(topic),
            $"bundle, {bundle.Count} frames, {payload.Length} bytes", details);
    }

    private static DecodedMessage DecodeFrame(string topic, byte[] payload)
    {
        try
        {
            var frame = TensorFrameCodec.Decode(payload);
            return new DecodedMessage(topic, PayloadKind.Frame, payload.Length, false, "frame: " + Describe(frame), []);
        }
        catch (WireFormatException exception)
        {
            return Undecodable(topic, payload, "frame", exception.Message);
        }
    }

    private static DecodedMessage DecodeJson(string topic, byte[] payload)
    {
        JsonNode? node;
        try
        {
            node = JsonNode.Parse(payload);
        }
        catch (JsonException exception)
        {
            return Undecodable(topic, payload, "JSON", exception.Message);
        }

        bool rejection = IsRejectionTopic(topic)
            || (topic == Topics.GatewayEvents && node is JsonObject e && (string?)e["kind"] is "message-rejected");
        string headline = $"json, {payload.Length} bytes";
        if (node is JsonObject json && rejection && (json["reason"] ?? json["detail"]) is { } why)
            headline = $"REJECTED ({Shorten(why.ToString())}), " + headline;
        else if (rejection)
            headline = "REJECTED, " + headline;
        return new DecodedMessage(topic, PayloadKind.Json, payload.Length, rejection, headline, PrettyJson(node));
    }

    private static DecodedMessage Undecodable(string topic, byte[] payload, string what, string reason) =>
        new(topic, PayloadKind.Undecodable, payload.Length, IsRejectionTopic(topic), $"undecodable {what}, {payload.Length} bytes: {reason}", []);

    private static bool IsRejectionTopic(string topic) =>
        Topics.TryParseDevice(topic, out _, out var leaf) && leaf == DeviceTopic.Rejected;

    private static string[]? PrettyJson(byte[] json)
    {
        try
        {
            return PrettyJson(JsonNode.Parse(json));
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static string[] PrettyJson(JsonNode? node)
    {
        var shortened = Shorten(node);
        return (shortened?.ToJsonString(Indented) ?? "null").Split('\n');
    }

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private static JsonNode? Shorten(JsonNode? node) => node switch
    {
        JsonObject obj => new JsonObject(obj.Select(p => KeyValuePair.Create(p.Key, Shorten(p.Value)))),
        JsonArray array => new JsonArray(array.Select(Shorten).ToArray()),
        JsonValue value when value.TryGetValue<string>(out var text) && text.Length > LongestStringShown =>
            JsonValue.Create($"{text[..24]}… ({text.Length} characters)"),
        null => null,
        _ => node.DeepClone(),
    };

    private static string Shorten(string text) => text.Length > LongestStringShown ? text[..LongestStringShown] + "…" : text;

    private static string Number(float value) => value.ToString("G4", CultureInfo.InvariantCulture);

    private static bool StartsWith(byte[] payload, byte[] magic) => payload.AsSpan().StartsWith(magic);
}
