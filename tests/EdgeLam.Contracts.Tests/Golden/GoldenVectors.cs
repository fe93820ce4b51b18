using System.Text.Json;
using EdgeLam.Contracts.Messages;
using EdgeLam.Contracts.Wire;
using EdgeLam.Contracts.Wire.Json;

namespace EdgeLam.Contracts.Tests.Golden;

/// <summary>
/// Reads tests/golden/manifest.json (copied to each test project's output under golden/) and checks one vector:
/// a valid one must decode to what the manifest says and re-encode to the identical bytes; a malformed one must
/// fail with a <see cref="WireFormatException"/> carrying the manifest's error code (and field, when given).
/// Shared by the contract, gateway, agent and firmware test projects, so every side decodes the same files.
/// </summary>
public static class GoldenVectors
{
    private static readonly Dictionary<string, Func<byte[], byte[]>> MessageRoundTrips = new()
    {
        [nameof(DeviceHello)] = RoundTrip<DeviceHello>,
        [nameof(DeviceStatus)] = RoundTrip<DeviceStatus>,
        [nameof(DeviceHeartbeat)] = RoundTrip<DeviceHeartbeat>,
        [nameof(DeploymentAck)] = RoundTrip<DeploymentAck>,
        [nameof(TrainingAssignment)] = RoundTrip<TrainingAssignment>,
        [nameof(LoraUpdateHeader)] = RoundTrip<LoraUpdateHeader>,
        [nameof(AdapterHeader)] = RoundTrip<AdapterHeader>,
        [nameof(InferenceRequestHeader)] = RoundTrip<InferenceRequestHeader>,
        [nameof(InferenceResultHeader)] = RoundTrip<InferenceResultHeader>,
        [nameof(Deployment)] = RoundTrip<Deployment>,
        [nameof(Rejection)] = RoundTrip<Rejection>,
        [nameof(GatewayStatus)] = RoundTrip<GatewayStatus>,
        [nameof(GatewayEvent)] = RoundTrip<GatewayEvent>,
        [nameof(OperatorCommand)] = RoundTrip<OperatorCommand>,
    };

    private static readonly Dictionary<string, Func<byte[], byte[]>> BundleRoundTrips = new()
    {
        [nameof(LoraUpdateHeader)] = data => MessageBundle<LoraUpdateHeader>.Decode(data).Encode(),
        [nameof(AdapterHeader)] = data => MessageBundle<AdapterHeader>.Decode(data).Encode(),
        [nameof(InferenceRequestHeader)] = data => MessageBundle<InferenceRequestHeader>.Decode(data).Encode(),
        [nameof(InferenceResultHeader)] = data => MessageBundle<InferenceResultHeader>.Decode(data).Encode(),
    };

    private static readonly Lazy<IReadOnlyList<GoldenVector>> Manifest = new(() => Load(Path.Combine(Folder, "manifest.json")));

    /// <summary>Folder holding the golden files next to the test assembly.</summary>
    public static string Folder => Path.Combine(AppContext.BaseDirectory, "golden");

    /// <summary>Every vector of the manifest.</summary>
    public static IReadOnlyList<GoldenVector> All => Manifest.Value;

    /// <summary>File names of every vector, as xunit theory data.</summary>
    public static TheoryData<string> Files()
    {
        var data = new TheoryData<string>();
        foreach (GoldenVector vector in All)
        {
            data.Add(vector.File);
        }

        return data;
    }

    /// <summary>The manifest entry of a file.</summary>
    public static GoldenVector Get(string file) => All.Single(vector => vector.File == file);

    /// <summary>The bytes of a golden file.</summary>
    public static byte[] Read(string file) => File.ReadAllBytes(Path.Combine(Folder, file));

    /// <summary>Checks one vector against the manifest (see the type's summary).</summary>
    public static void Check(string file)
    {
        GoldenVector vector = Get(file);
        byte[] data = Read(file);
        Func<byte[], byte[]> roundTrip = vector.Kind switch
        {
            "frame" => bytes => TensorFrameCodec.Encode(TensorFrameCodec.Decode(bytes)),
            "bundle" when vector.Message is null => bytes => TensorBundleCodec.Encode(TensorBundleCodec.Decode(bytes)),
            "bundle" => BundleRoundTrips[vector.Message],
            "message" => MessageRoundTrips[vector.Message ?? throw new InvalidDataException($"{file}: message vectors name their message type")],
            _ => throw new InvalidDataException($"{file}: unknown kind '{vector.Kind}'"),
        };

        if (!vector.Valid)
        {
            WireFormatException error = Assert.Throws<WireFormatException>(() => roundTrip(data));
            Assert.True(vector.Error == WireErrors.Name(error.Code), $"{file}: expected {vector.Error}, got {error.Message}");
            if (vector.Field is not null)
            {
                Assert.True(vector.Field == error.Field, $"{file}: expected field '{vector.Field}', got {error.Message}");
            }

            return;
        }

        Assert.Equal(data, roundTrip(data));
        if (vector.Kind == "frame")
        {
            CheckFrameContent(vector, TensorFrameCodec.Decode(data));
        }
        else if (vector.Kind == "bundle")
        {
            TensorBundle bundle = TensorBundleCodec.Decode(data);
            Assert.Equal(vector.Frames ?? [], Enumerable.Range(0, bundle.Count).Select(bundle.GetName).ToArray());
        }
        else
        {
            // The portable reader and writer (the firmware's) reproduce the exact bytes of every valid message.
            Assert.Equal(data, JsonWriter.Serialize(JsonReader.Parse(data)));
        }
    }

    /// <summary>Checks a decoded frame's header fields and elements against the manifest.</summary>
    public static void CheckFrameContent(GoldenVector vector, TensorFrame frame)
    {
        Assert.Equal(vector.Dtype, TensorFrame.DataTypeName(frame.DataType));
        Assert.Equal(vector.Shape, frame.Shape);
        Assert.Equal(vector.Quantization, QuantizationName(frame.Quantization));
        Assert.Equal(vector.Axis ?? 0, frame.QuantizationAxis);
        Assert.Equal(vector.Scales ?? [], frame.Scales);
        Assert.Equal(vector.ZeroPoints ?? [], frame.ZeroPoints);
        double[] elements = vector.Elements ?? throw new InvalidDataException($"{vector.File}: valid frames list their elements");
        Assert.Equal(elements.Length, frame.ElementCount);
        for (int i = 0; i < elements.Length; i++)
        {
            if (frame.DataType is TensorDataType.Float32 or TensorDataType.Float16)
            {
                // Bit equality: -0 and subnormals must survive exactly.
                Assert.Equal(BitConverter.SingleToInt32Bits((float)elements[i]), BitConverter.SingleToInt32Bits(frame.GetFloat(i)));
            }
            else
            {
                Assert.Equal((int)elements[i], frame.GetInteger(i));
            }
        }
    }

    /// <summary>Manifest name of a quantization kind.</summary>
    public static string QuantizationName(QuantizationKind kind) => kind switch
    {
        QuantizationKind.PerTensor => "per-tensor",
        QuantizationKind.PerChannel => "per-channel",
        _ => "none",
    };

    /// <summary>Parses a manifest file.</summary>
    public static IReadOnlyList<GoldenVector> Load(string manifestPath)
    {
        using FileStream stream = File.OpenRead(manifestPath);
        GoldenManifest manifest = JsonSerializer.Deserialize<GoldenManifest>(stream, ManifestOptions)
            ?? throw new InvalidDataException($"{manifestPath} is empty");
        return manifest.Vectors;
    }

    /// <summary>Options of manifest.json: camelCase, indented, nulls omitted.</summary>
    public static JsonSerializerOptions ManifestOptions { get; } = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        WriteIndented = true,
        DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    private static byte[] RoundTrip<TMessage>(byte[] data)
        where TMessage : class, IWireMessage
        => WireMessages.Encode(WireMessages.Decode<TMessage>(data));
}

/// <summary>tests/golden/manifest.json.</summary>
/// <param name="Version">Manifest format version.</param>
/// <param name="Vectors">One entry per golden file.</param>
public sealed record GoldenManifest(int Version, IReadOnlyList<GoldenVector> Vectors);

/// <summary>One golden file and what decoding it must give.</summary>
/// <param name="File">Path under tests/golden.</param>
/// <param name="Kind">frame, bundle or message.</param>
/// <param name="Valid">Whether decoding must succeed.</param>
/// <param name="Description">What the vector exercises.</param>
public sealed record GoldenVector(string File, string Kind, bool Valid, string Description)
{
    /// <summary>Message type (record name) of a message, or of a bundle's header.</summary>
    public string? Message { get; init; }

    /// <summary>Topic leaf the message or bundle travels on (e.g. "hello", "infer/request").</summary>
    public string? Topic { get; init; }

    /// <summary>Expected <see cref="WireErrorCode"/> name of a malformed vector.</summary>
    public string? Error { get; init; }

    /// <summary>Expected field of the error, when the contract names one.</summary>
    public string? Field { get; init; }

    /// <summary>Frame dtype name (f32, f16, i8, u8, i32).</summary>
    public string? Dtype { get; init; }

    /// <summary>Frame shape.</summary>
    public int[]? Shape { get; init; }

    /// <summary>Frame quantization: none, per-tensor, per-channel.</summary>
    public string? Quantization { get; init; }

    /// <summary>Per-channel axis.</summary>
    public int? Axis { get; init; }

    /// <summary>Quantization scales.</summary>
    public float[]? Scales { get; init; }

    /// <summary>Quantization zero points.</summary>
    public int[]? ZeroPoints { get; init; }

    /// <summary>Stored element values, row-major (not dequantized).</summary>
    public double[]? Elements { get; init; }

    /// <summary>Names of a bundle's frames, in order.</summary>
    public string[]? Frames { get; init; }
}
