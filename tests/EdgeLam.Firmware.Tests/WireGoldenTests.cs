using EdgeLam.Contracts.Messages;
using EdgeLam.Contracts.Tests.Golden;
using EdgeLam.Contracts.Wire;
using EdgeLam.Contracts.Wire.Json;

namespace EdgeLam.Firmware.Tests;

/// <summary>
/// The firmware side of the contract decodes every golden vector (tests/golden/manifest.json) as specified, and its
/// portable JSON reader (the one compiled for nanoFramework) reads the device-bound messages to the same values as
/// the .NET records.
/// </summary>
public sealed class WireGoldenTests
{
    public static TheoryData<string> Vectors => GoldenVectors.Files();

    [Theory]
    [MemberData(nameof(Vectors))]
    public void Golden_vector_decodes_as_the_manifest_says(string file) => GoldenVectors.Check(file);

    [Fact]
    public void Portable_reader_reads_the_golden_assignment_like_the_records()
    {
        byte[] data = GoldenVectors.Read("messages/assign.json");
        TrainingAssignment expected = WireMessages.Decode<TrainingAssignment>(data);
        JsonObject assignment = JsonReader.ParseObject(data, 0, data.Length);
        Assert.Equal(expected.Round, assignment.GetInt32("round", 1, 1_000_000));
        Assert.Equal(expected.Rank, assignment.GetInt32("rank", 1, 64));
        Assert.Equal(expected.Layers, assignment.GetArray("layers").ToInt32Array(0, 63, 64));
        Assert.Equal(WireMessages.EnumName(expected.Precision), assignment.GetChoice("precision", ["fp32", "fp16", "int8"]));
        Assert.Equal(expected.LearningRate, assignment.GetDouble("learningRate", 0, 1));
        Assert.Equal(expected.DeadlineUnixMilliseconds, assignment.GetInt64("deadlineUnixMilliseconds", 1, long.MaxValue));
    }

    [Fact]
    public void Firmware_reads_the_mode_and_lora_alpha_of_golden_assignments()
    {
        var lora = EdgeLam.Firmware.Application.TrainingAssignment.Parse(GoldenVectors.Read("messages/assign-lora-alpha.json"));
        Assert.Equal((false, 8, 16f), (lora.TrainsFullModel, lora.Rank, lora.LoraAlpha));
        var full = EdgeLam.Firmware.Application.TrainingAssignment.Parse(GoldenVectors.Read("messages/assign-full.json"));
        Assert.Equal((true, 0, "fp32"), (full.TrainsFullModel, full.Rank, full.Precision));
        var unnamed = EdgeLam.Firmware.Application.TrainingAssignment.Parse(GoldenVectors.Read("messages/assign.json"));
        Assert.Equal((false, EdgeLam.Firmware.Application.TrainingAssignment.DefaultLoraAlpha), (unnamed.TrainsFullModel, unnamed.LoraAlpha));
        var withAlpha = Assert.Throws<WireFormatException>(() => EdgeLam.Firmware.Application.TrainingAssignment.Parse(GoldenVectors.Read("messages/malformed/assign-full-with-alpha.json")));
        Assert.Equal((WireErrorCode.Inconsistent, "loraAlpha"), (withAlpha.Code, withAlpha.Field));
    }

    [Fact]
    public void Portable_codec_reads_the_golden_int8_update_as_integer_kernel_input()
    {
        TensorBundle update = TensorBundleCodec.Decode(GoldenVectors.Read("bundles/lora-update-int8.bin"));
        Assert.Equal(4, update.Header.GetInt32("rank", 1, 64));
        TensorFrame factor = update.GetRequired("layers.0.query.a");
        sbyte[] weights = factor.ToInt8Array();
        Assert.Equal(factor.ElementCount, weights.Length);
        Assert.Equal(factor.Shape[0], factor.Scales.Length);
        Assert.All(factor.ZeroPoints, zeroPoint => Assert.Equal(0, zeroPoint));
        Assert.All(weights, weight => Assert.InRange(weight, (sbyte)-127, (sbyte)127));
    }
}
