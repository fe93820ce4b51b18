using EdgeLam.Contracts.Messages;
using EdgeLam.Contracts.Tests.Golden;
using EdgeLam.Contracts.Wire;

namespace EdgeLam.Agent.Tests;

/// <summary>The agent side of the contract (M/H-tier) decodes every golden vector (tests/golden/manifest.json) as specified.</summary>
public sealed class WireGoldenTests
{
    public static TheoryData<string> Vectors => GoldenVectors.Files();

    [Theory]
    [MemberData(nameof(Vectors))]
    public void Golden_vector_decodes_as_the_manifest_says(string file) => GoldenVectors.Check(file);

    [Fact]
    public void Golden_inference_request_yields_an_input_the_agent_can_dequantize()
    {
        MessageBundle<InferenceRequestHeader> request = MessageBundle<InferenceRequestHeader>.Decode(GoldenVectors.Read("bundles/infer-request.bin"));
        TensorFrame input = request.Bundle.GetRequired(InferenceRequestHeader.InputFrameName);
        Assert.Equal([1, 4, 8], input.Shape);
        float[] values = input.Dequantize();
        Assert.Equal(32, values.Length);

        // Re-quantizing the dequantized input with the same per-tensor scheme reproduces the stored integers.
        TensorFrame again = TensorFrame.QuantizePerTensor(values, input.Shape);
        Assert.Equal(input.Scales, again.Scales);
        Assert.Equal(input.Payload, again.Payload);
    }
}
