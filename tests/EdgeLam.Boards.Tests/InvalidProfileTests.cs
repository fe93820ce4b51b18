using System.Text.Json.Nodes;
using EdgeLam.Boards;

namespace EdgeLam.Boards.Tests;

/// <summary>Each test breaks one field of a shipped profile and checks the error names the file and the field.</summary>
public sealed class InvalidProfileTests
{
    private static readonly string BoardsDirectory = BoardProfileLoader.FindBoardsDirectory(AppContext.BaseDirectory);

    [Theory]
    [InlineData("memory.ramBytes", null, "$.memory.ramBytes is missing")]
    [InlineData("power", null, "$.power is missing")]
    [InlineData("cpu.coreCount.reference", null, "$.cpu.coreCount.reference is missing")]
    [InlineData("memory.ramBytes.source", "\"guess\"", "$.memory.ramBytes.source must be one of datasheet, measured, estimate (found 'guess')")]
    [InlineData("memory.ramBytes.source", "null", "$.memory.ramBytes.source must be one of datasheet, measured, estimate (found null)")]
    [InlineData("memory.psramBytes.value", "-1", "$.memory.psramBytes.value must be at least 0 (found -1)")]
    [InlineData("memory.ramBytes.value", "\"4 GB\"", "$.memory.ramBytes.value must be an integer (found '4 GB')")]
    [InlineData("memory.ramBytes.value", "4.5e9", "$.memory.ramBytes.value must be an integer (found 4.5e9)")]
    [InlineData("memory.modelBudgetBytes.value", "5000000000", "$.memory.modelBudgetBytes plus trainingBudgetBytes (6073741824 bytes) must fit in ramBytes plus psramBytes (4294967296 bytes)")]
    [InlineData("precisions.1", "\"bf16\"", "$.precisions[1] must be one of fp32, fp16, int8 (found 'bf16')")]
    [InlineData("precisions.1", "\"fp32\"", "$.precisions[1] repeats precision Fp32")]
    [InlineData("precisions", "[]", "$.precisions must not be empty")]
    [InlineData("adaptation.maxLoraRank.value", "0", "$.adaptation.maxLoraRank.value must be at least 1 (found 0)")]
    [InlineData("adaptation.maxLoraRank.value", "-8", "$.adaptation.maxLoraRank.value must be at least 1 (found -8)")]
    [InlineData("tier", "\"X\"", "$.tier must be one of L, M, H (found 'X')")]
    [InlineData("id", "\"raspberry-pi-3\"", "$.id 'raspberry-pi-3' must equal the file name without .json")]
    [InlineData("memory.ramBytez", "1", "$.memory.ramBytez is not a known property (expected ramBytes, psramBytes, flashBytes, modelBudgetBytes, trainingBudgetBytes)")]
    [InlineData("cpu.clockMegahertz.reference", "\" \"", "$.cpu.clockMegahertz.reference must not be empty")]
    [InlineData("power.busyWatts.value", "1.0", "$.power.busyWatts must not be below idleWatts (1 < 2.7)")]
    [InlineData("multiplyAccumulatesPerSecond.fp16", null, "$.multiplyAccumulatesPerSecond.fp16 is missing")]
    [InlineData("multiplyAccumulatesPerSecond.bf16", "{}", "$.multiplyAccumulatesPerSecond.bf16 is not a known precision (expected fp32, fp16, int8)")]
    [InlineData("executionProviders", "[\"cuda\"]", "$.executionProviders must contain cpu, the fallback every board has")]
    [InlineData("runtime", "\"nanoframework\"", "$.runtime must be nanoframework exactly when the tier is L (tier Medium, runtime NanoFramework)")]
    [InlineData("gpio.temperatureSensor.sclPin.value", "2", "$.gpio.temperatureSensor.sclPin must differ from sdaPin (both 2)")]
    [InlineData("gpio.temperatureSensor.i2cAddress.value", "120", "$.gpio.temperatureSensor.i2cAddress.value must be a 7-bit address from 8 to 119 (found 120)")]
    [InlineData("network.wifi.value", "\"yes\"", "$.network.wifi.value must be true or false (found 'yes')")]
    public void A_broken_field_is_rejected_with_its_file_and_path(string fieldPath, string? replacementJson, string expectedProblem)
    {
        var profile = ShippedProfile("raspberry-pi-4");
        Replace(profile, fieldPath, replacementJson);

        var error = Assert.Throws<BoardProfileException>(() => BoardProfileLoader.Parse(profile.ToJsonString(), "raspberry-pi-4.json"));

        Assert.Equal("raspberry-pi-4.json: " + expectedProblem, error.Message);
    }

    [Fact]
    public void An_L_tier_board_with_a_floating_point_precision_is_rejected()
    {
        var profile = ShippedProfile("esp32-wrover");
        profile["precisions"] = JsonNode.Parse("[\"int8\", \"fp32\"]");
        profile["multiplyAccumulatesPerSecond"]!["fp32"] = JsonNode.Parse("""{ "value": 1000, "source": "estimate", "reference": "r" }""");

        var error = Assert.Throws<BoardProfileException>(() => BoardProfileLoader.Parse(profile.ToJsonString(), "esp32-wrover.json"));

        Assert.Equal("esp32-wrover.json: $.precisions must be [\"int8\"] for an L-tier board: the firmware has integer kernels only", error.Message);
    }

    [Fact]
    public void An_L_tier_board_must_state_how_many_layers_it_can_adapt()
    {
        var profile = ShippedProfile("esp32-s3");
        profile["adaptation"]!.AsObject().Remove("maxAdaptedLayerCount");

        var error = Assert.Throws<BoardProfileException>(() => BoardProfileLoader.Parse(profile.ToJsonString(), "esp32-s3.json"));

        Assert.Equal("$.adaptation", error.JsonPath);
        Assert.Contains("maxAdaptedLayerCount", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{ \"id\": \"raspberry-pi-4\", ")]
    [InlineData("{ \"id\": \"raspberry-pi-4\", }")]
    [InlineData("{ \"id\": \"a\", \"id\": \"b\" }")]
    [InlineData("")]
    public void Malformed_json_is_rejected_with_the_file_name(string json)
    {
        var error = Assert.Throws<BoardProfileException>(() => BoardProfileLoader.Parse(json, "raspberry-pi-4.json"));

        Assert.StartsWith("raspberry-pi-4.json: $", error.Message, StringComparison.Ordinal);
        Assert.Contains("is not well-formed JSON", error.Message, StringComparison.Ordinal);
        Assert.Equal("raspberry-pi-4.json", error.FileName);
    }

    [Fact]
    public void A_document_that_is_not_an_object_is_rejected()
    {
        var error = Assert.Throws<BoardProfileException>(() => BoardProfileLoader.Parse("[1, 2]", "jetson-orin-nano.json"));

        Assert.Equal("jetson-orin-nano.json: $ must be an object (found an array)", error.Message);
    }

    [Fact]
    public void Loading_a_directory_names_the_broken_file()
    {
        var directory = Directory.CreateTempSubdirectory("edgelam-boards-");
        try
        {
            File.Copy(Path.Combine(BoardsDirectory, "esp32-s3.json"), Path.Combine(directory.FullName, "esp32-s3.json"));
            var broken = ShippedProfile("raspberry-pi-5");
            Replace(broken, "cpu.coreCount.source", "\"rumour\"");
            File.WriteAllText(Path.Combine(directory.FullName, "raspberry-pi-5.json"), broken.ToJsonString());

            var error = Assert.Throws<BoardProfileException>(() => BoardProfileLoader.LoadAll(directory.FullName));

            Assert.StartsWith("raspberry-pi-5.json: $.cpu.coreCount.source must be one of", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    private static JsonObject ShippedProfile(string id) =>
        JsonNode.Parse(File.ReadAllText(Path.Combine(BoardsDirectory, id + ".json")))!.AsObject();

    /// <summary>Sets (or with null removes) the node at a dotted path; numeric segments index arrays.</summary>
    private static void Replace(JsonObject root, string fieldPath, string? replacementJson)
    {
        var segments = fieldPath.Split('.');
        JsonNode parent = root;
        foreach (var segment in segments[..^1])
            parent = int.TryParse(segment, out var index) ? parent[index]! : parent[segment]!;
        var last = segments[^1];
        var replacement = replacementJson is null ? null : JsonNode.Parse(replacementJson);
        if (int.TryParse(last, out var lastIndex))
            parent[lastIndex] = replacement;
        else if (replacementJson is null)
            parent.AsObject().Remove(last);
        else
            parent[last] = replacement;
    }
}
