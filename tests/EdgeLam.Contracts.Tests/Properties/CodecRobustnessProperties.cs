using CsCheck;
using EdgeLam.Contracts.Messages;
using EdgeLam.Contracts.Tests.Golden;
using EdgeLam.Contracts.Wire;
using EdgeLam.Contracts.Wire.Json;

namespace EdgeLam.Contracts.Tests.Properties;

/// <summary>
/// Whatever bytes arrive, the decoders either succeed or throw <see cref="WireFormatException"/>: never an
/// IndexOutOfRange, overflow, JsonException or any other exception that would take a receiver down.
/// </summary>
public sealed class CodecRobustnessProperties
{
    private const int Iterations = 2_000;

    [Fact]
    public void Random_bytes_never_escape_the_frame_decoder() =>
        Gen.Byte.Array[0, 96].Sample(data => DecodesOrRefuses(() => TensorFrameCodec.Decode(data)), iter: Iterations);

    [Fact]
    public void Random_bytes_after_a_frame_magic_never_escape_the_frame_decoder() =>
        Gen.Byte.Array[0, 96].Sample(tail => DecodesOrRefuses(() => TensorFrameCodec.Decode([.. TensorFrameCodec.Magic, 1, .. tail])), iter: Iterations);

    [Fact]
    public void Mutated_frames_never_escape_the_frame_decoder() =>
        WireGenerators.MutatedFrameBytes.Sample(data => DecodesOrRefuses(() => TensorFrameCodec.Decode(data)), iter: Iterations);

    [Fact]
    public void Random_and_mutated_bundles_never_escape_the_bundle_decoder()
    {
        Gen.Byte.Array[0, 96].Sample(data => DecodesOrRefuses(() => TensorBundleCodec.Decode([.. TensorBundleCodec.Magic, 1, 0, .. data])), iter: Iterations);
        Gen.Select(WireGenerators.Bundle, WireGenerators.Mutations).Sample(
            (bundle, mutations) => DecodesOrRefuses(() => TensorBundleCodec.Decode(WireGenerators.Mutate(TensorBundleCodec.Encode(bundle), mutations))),
            iter: Iterations);
    }

    [Fact]
    public void Random_bytes_and_json_like_text_never_escape_the_json_reader()
    {
        Gen.Byte.Array[0, 64].Sample(data => DecodesOrRefuses(() => JsonReader.Parse(data)), iter: Iterations);
        Gen.Char["{}[]\":,0123456789.eE+-truefalsn\\u \t"].Array[0, 48].Sample(
            chars => DecodesOrRefuses(() => JsonReader.Parse(System.Text.Encoding.ASCII.GetBytes(chars))), iter: Iterations);
    }

    [Fact]
    public void Mutated_golden_messages_never_escape_the_message_decoders()
    {
        GoldenVector[] messages = [.. GoldenVectors.All.Where(vector => vector.Kind == "message" && vector.Valid)];
        Gen.Select(Gen.Int[0, messages.Length - 1], WireGenerators.Mutations).Sample((index, mutations) =>
        {
            byte[] data = WireGenerators.Mutate(GoldenVectors.Read(messages[index].File), mutations);
            DecodesOrRefuses(() => JsonReader.Parse(data));
            DecodesOrRefuses(() => DecodeAs(messages[index].Message!, data));
        }, iter: Iterations);
    }

    [Fact]
    public void Mutated_golden_bundles_never_escape_the_message_bundle_decoders()
    {
        GoldenVector[] bundles = [.. GoldenVectors.All.Where(vector => vector.Kind == "bundle" && vector.Valid && vector.Message is not null)];
        Gen.Select(Gen.Int[0, bundles.Length - 1], WireGenerators.Mutations).Sample((index, mutations) =>
        {
            byte[] data = WireGenerators.Mutate(GoldenVectors.Read(bundles[index].File), mutations);
            DecodesOrRefuses(() => DecodeBundleAs(bundles[index].Message!, data));
        }, iter: Iterations / 4);
    }

    private static void DecodesOrRefuses(Action decode)
    {
        try
        {
            decode();
        }
        catch (WireFormatException)
        {
            // The contract's refusal: expected for most inputs.
        }
    }

    private static object DecodeAs(string message, byte[] data) => message switch
    {
        nameof(DeviceHello) => WireMessages.Decode<DeviceHello>(data),
        nameof(DeviceStatus) => WireMessages.Decode<DeviceStatus>(data),
        nameof(DeviceHeartbeat) => WireMessages.Decode<DeviceHeartbeat>(data),
        nameof(DeploymentAck) => WireMessages.Decode<DeploymentAck>(data),
        nameof(TrainingAssignment) => WireMessages.Decode<TrainingAssignment>(data),
        nameof(LoraUpdateHeader) => WireMessages.Decode<LoraUpdateHeader>(data),
        nameof(AdapterHeader) => WireMessages.Decode<AdapterHeader>(data),
        nameof(InferenceRequestHeader) => WireMessages.Decode<InferenceRequestHeader>(data),
        nameof(InferenceResultHeader) => WireMessages.Decode<InferenceResultHeader>(data),
        nameof(Deployment) => WireMessages.Decode<Deployment>(data),
        nameof(Rejection) => WireMessages.Decode<Rejection>(data),
        nameof(GatewayStatus) => WireMessages.Decode<GatewayStatus>(data),
        nameof(GatewayEvent) => WireMessages.Decode<GatewayEvent>(data),
        nameof(OperatorCommand) => WireMessages.Decode<OperatorCommand>(data),
        _ => throw new ArgumentOutOfRangeException(nameof(message), message, "not a message type"),
    };

    private static object DecodeBundleAs(string header, byte[] data) => header switch
    {
        nameof(LoraUpdateHeader) => MessageBundle<LoraUpdateHeader>.Decode(data),
        nameof(AdapterHeader) => MessageBundle<AdapterHeader>.Decode(data),
        nameof(InferenceRequestHeader) => MessageBundle<InferenceRequestHeader>.Decode(data),
        nameof(InferenceResultHeader) => MessageBundle<InferenceResultHeader>.Decode(data),
        _ => throw new ArgumentOutOfRangeException(nameof(header), header, "not a bundle header type"),
    };
}
