using EdgeLam.Contracts.Messages;
using EdgeLam.Contracts.Tests.Golden;
using EdgeLam.Contracts.Wire;

namespace EdgeLam.Gateway.Tests;

/// <summary>The gateway side of the contract decodes every golden vector (tests/golden/manifest.json) as specified.</summary>
public sealed class WireGoldenTests
{
    public static TheoryData<string> Vectors => GoldenVectors.Files();

    [Theory]
    [MemberData(nameof(Vectors))]
    public void Golden_vector_decodes_as_the_manifest_says(string file) => GoldenVectors.Check(file);

    [Fact]
    public void Golden_device_messages_arrive_on_topics_the_gateway_parses()
    {
        foreach (GoldenVector vector in GoldenVectors.All.Where(vector => vector.Valid && vector.Topic is not null && !vector.Topic.StartsWith("gateway/", StringComparison.Ordinal)))
        {
            DeviceTopic leaf = Topics.ParseLeaf(vector.Topic!);
            Assert.NotEqual(DeviceTopic.Unknown, leaf);
            string topic = Topics.Device("esp32-wrover-01", leaf);
            Assert.True(Topics.TryParseDevice(topic, out string deviceId, out DeviceTopic parsed));
            Assert.Equal(("esp32-wrover-01", leaf), (deviceId, parsed));
        }
    }

    [Fact]
    public void Golden_lora_update_dequantizes_to_factors_of_the_header_rank()
    {
        MessageBundle<LoraUpdateHeader> update = MessageBundle<LoraUpdateHeader>.Decode(GoldenVectors.Read("bundles/lora-update-int8.bin"));
        Assert.Equal(4, update.Header.Rank);
        for (int i = 0; i < update.Bundle.Count; i++)
        {
            TensorFrame factor = update.Bundle.GetFrame(i);
            Assert.Equal(QuantizationKind.PerChannel, factor.Quantization);
            float[] values = factor.Dequantize();
            Assert.Equal(factor.ElementCount, values.Length);
            Assert.All(values, value => Assert.True(float.IsFinite(value) && Math.Abs(value) <= 1.0001f));
        }
    }
}
