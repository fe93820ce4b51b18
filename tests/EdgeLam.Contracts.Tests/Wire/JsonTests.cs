using EdgeLam.Contracts.Wire;
using EdgeLam.Contracts.Wire.Json;

namespace EdgeLam.Contracts.Tests.Wire;

public sealed class JsonTests
{
    [Fact]
    public void Schema_getters_name_the_field_they_refuse()
    {
        byte[] data = """{"round":3,"rank":"4","layers":[0,70],"name":"","alpha":1.5,"nested":{"x":null}}"""u8.ToArray();
        JsonObject message = JsonReader.ParseObject(data, 0, data.Length);
        Assert.Equal(3, message.GetInt32("round", 1, 10));
        AssertError(WireErrorCode.WrongType, "rank", () => message.GetInt32("rank", 1, 64));
        AssertError(WireErrorCode.OutOfRange, "layers[1]", () => message.GetArray("layers").ToInt32Array(0, 63, 4));
        AssertError(WireErrorCode.OutOfRange, "name", () => message.GetString("name", 10));
        AssertError(WireErrorCode.MissingField, "missing", () => message.GetRequired("missing"));
        AssertError(WireErrorCode.MissingField, "nested.x", () => message.GetObject("nested").GetInt32("x", 0, 1));
        AssertError(WireErrorCode.WrongType, "alpha", () => message.GetInt64("alpha", 0, 10));
        AssertError(WireErrorCode.UnknownValue, "state", () => JsonReader.ParseObject("""{"state":"sleeping"}"""u8.ToArray(), 0, 20).GetChoice("state", ["online", "offline"]));
        Assert.Equal(1.5, message.GetDouble("alpha", 0, 2));
    }

    [Theory]
    [InlineData("9223372036854775807", true, long.MaxValue)]
    [InlineData("-9223372036854775808", true, long.MinValue)]
    [InlineData("9223372036854775808", false, 0L)]
    [InlineData("-0", true, 0L)]
    [InlineData("1e3", false, 0L)]
    public void Integer_literals_convert_exactly_or_not_at_all(string literal, bool fits, long expected)
    {
        var number = (JsonNumber)JsonReader.Parse(System.Text.Encoding.ASCII.GetBytes(literal));
        Assert.Equal(fits, number.TryGetInt64(out long value));
        Assert.Equal(expected, value);
    }

    [Theory]
    [InlineData("01", WireErrorCode.TrailingData)]
    [InlineData("{\"a\":01}", WireErrorCode.MalformedJson)]
    [InlineData("1.", WireErrorCode.MalformedJson)]
    [InlineData("-", WireErrorCode.MalformedJson)]
    [InlineData("+1", WireErrorCode.MalformedJson)]
    [InlineData("\"\\x\"", WireErrorCode.MalformedJson)]
    [InlineData("\"\\ud800\"", WireErrorCode.MalformedJson)]
    [InlineData("\"a\u0001\"", WireErrorCode.MalformedJson)]
    [InlineData("[1,]", WireErrorCode.MalformedJson)]
    [InlineData("{\"a\":1,}", WireErrorCode.MalformedJson)]
    [InlineData("tru", WireErrorCode.MalformedJson)]
    [InlineData("1 2", WireErrorCode.TrailingData)]
    [InlineData("12345678901234567890123456789012345678901", WireErrorCode.Oversize)]
    public void Malformed_documents_are_refused_with_their_code(string text, WireErrorCode expected)
    {
        Assert.Equal(expected, Assert.Throws<WireFormatException>(() => JsonReader.Parse(System.Text.Encoding.UTF8.GetBytes(text))).Code);
    }

    [Fact]
    public void Writer_output_is_compact_escaped_and_refuses_non_finite_numbers()
    {
        var writer = new JsonWriter();
        writer.WriteStartObject();
        writer.WriteString("text", "a\"b\\c\n\u0001é");
        writer.WriteNumber("count", -12);
        writer.WriteNumber("ratio", 0.25);
        writer.WriteBoolean("ok", true);
        writer.WritePropertyName("list");
        writer.WriteStartArray();
        writer.WriteNull();
        writer.WriteNumber(1);
        writer.WriteEndArray();
        writer.WriteEndObject();
        Assert.Equal("{\"text\":\"a\\\"b\\\\c\\n\\u0001é\",\"count\":-12,\"ratio\":0.25,\"ok\":true,\"list\":[null,1]}", System.Text.Encoding.UTF8.GetString(writer.ToArray()));
        Assert.Equal(WireErrorCode.NonFinite, Assert.Throws<WireFormatException>(() => new JsonWriter().WriteNumber(double.NaN)).Code);
    }

    private static void AssertError(WireErrorCode code, string field, Action action)
    {
        WireFormatException error = Assert.Throws<WireFormatException>(action);
        Assert.Equal(code, error.Code);
        Assert.Equal(field, error.Field);
    }
}
