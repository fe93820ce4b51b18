using System.Text;
using System.Text.Json;
using CsCheck;
using EdgeLam.Contracts.Wire;
using EdgeLam.Contracts.Wire.Json;

namespace EdgeLam.Contracts.Tests.Properties;

/// <summary>Encoding then decoding gives back the same frame, bundle or JSON document, for random valid inputs.</summary>
public sealed class RoundTripProperties
{
    private const int Iterations = 1_000;

    [Fact]
    public void Frames_of_every_dtype_and_quantization_round_trip() =>
        WireGenerators.Frame.Sample(frame =>
        {
            byte[] encoded = TensorFrameCodec.Encode(frame);
            TensorFrame decoded = TensorFrameCodec.Decode(encoded);
            Assert.Equal(frame.DataType, decoded.DataType);
            Assert.Equal(frame.Shape, decoded.Shape);
            Assert.Equal(frame.Quantization, decoded.Quantization);
            Assert.Equal(frame.QuantizationAxis, decoded.QuantizationAxis);
            Assert.Equal(frame.Scales, decoded.Scales);
            Assert.Equal(frame.ZeroPoints, decoded.ZeroPoints);
            Assert.Equal(frame.Payload, decoded.Payload);
            Assert.Equal(encoded, TensorFrameCodec.Encode(decoded));
        }, iter: Iterations);

    [Fact]
    public void Bundles_round_trip() =>
        WireGenerators.Bundle.Sample(bundle =>
        {
            byte[] encoded = TensorBundleCodec.Encode(bundle);
            TensorBundle decoded = TensorBundleCodec.Decode(encoded);
            Assert.Equal(bundle.HeaderJson, decoded.HeaderJson);
            Assert.Equal(bundle.Count, decoded.Count);
            Assert.Equal(encoded, TensorBundleCodec.Encode(decoded));
        }, iter: Iterations / 2);

    [Fact]
    public void Json_documents_round_trip_and_agree_with_System_Text_Json() =>
        JsonDocumentText.Sample(text =>
        {
            byte[] written = JsonWriter.Serialize(JsonReader.Parse(Encoding.UTF8.GetBytes(text)));
            Assert.Equal(written, JsonWriter.Serialize(JsonReader.Parse(written)));

            // An independent parser reads the same document: same canonical text.
            using JsonDocument reference = JsonDocument.Parse(written);
            Assert.Equal(JsonSerializer.Serialize(reference.RootElement), JsonSerializer.Serialize(JsonDocument.Parse(text).RootElement));
        }, iter: Iterations);

    [Fact]
    public void Strings_with_any_code_point_survive_the_json_writer_and_reader() =>
        CodePointString.Sample(text =>
        {
            var writer = new JsonWriter();
            writer.WriteStartObject();
            writer.WriteString("text", text);
            writer.WriteEndObject();
            byte[] written = writer.ToArray();
            Assert.Equal(text, JsonReader.ParseObject(written, 0, written.Length).GetRequired("text").AsString());
            using JsonDocument reference = JsonDocument.Parse(written);
            Assert.Equal(text, reference.RootElement.GetProperty("text").GetString());
        }, iter: Iterations);

    private static readonly JsonSerializerOptions RelaxedOptions = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Strings of arbitrary Unicode scalar values (no lone surrogates), including controls and quotes.</summary>
    private static readonly Gen<string> CodePointString = Gen.Frequency(
            (4, Gen.Int[0, 0x7F]),
            (2, Gen.Int[0x80, 0xD7FF]),
            (1, Gen.Int[0xE000, 0x10FFFF]))
        .Array[0, 12]
        .Select(codePoints => string.Concat(codePoints.Select(char.ConvertFromUtf32)));

    /// <summary>JSON text built from random values, written by System.Text.Json (so it is valid JSON by construction).</summary>
    private static readonly Gen<string> JsonDocumentText = Gen.Recursive<object?>((depth, self) => depth >= 3
            ? Gen.OneOf<object?>(Gen.Int.Select(v => (object?)v), CodePointString.Select(v => (object?)v), Gen.Bool.Select(v => (object?)v), Gen.Double[-1e6, 1e6].Select(v => (object?)v))
            : Gen.OneOf<object?>(
                Gen.Int.Select(v => (object?)v),
                CodePointString.Select(v => (object?)v),
                Gen.Bool.Select(flag => flag ? (object?)flag : null),
                self.Array[0, 3].Select(v => (object?)v),
                Gen.Select(CodePointString, self).Array[0, 3].Select(v => (object?)v.DistinctBy(pair => pair.Item1).ToDictionary(pair => pair.Item1, pair => pair.Item2))))
        .Select(value => JsonSerializer.Serialize(value, RelaxedOptions));
}
