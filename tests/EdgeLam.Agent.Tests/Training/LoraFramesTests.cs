using EdgeLam.Agent.Training;
using EdgeLam.Contracts.Messages;
using EdgeLam.Model.Architecture;
using EdgeLam.Model.Lora;
using Xunit;

namespace EdgeLam.Agent.Tests.Training;

public sealed class LoraFramesTests
{
    [Fact]
    public void The_agent_adapts_exactly_the_projections_of_its_layers_that_the_start_adapter_carries()
    {
        LoraTarget[] sent = [new(0, "q"), new(0, "v"), new(1, "fc2")];
        var adapters = new LoraAdapterSet(TinyVitConfig.Tiny, 4, 16f, sent);
        adapters.InitializeRandom(3);
        var header = new AdapterHeader { Round = 1, Rank = 4, Layers = [0, 1], Precision = Precision.Fp16, BaseModelId = "tinyvit-test" };
        var bundle = MessageBundle<AdapterHeader>.Create(header, LoraFrames.ToFrames(adapters, Precision.Fp16)).Bundle;

        Assert.Equal(sent, LoraFrames.AdaptedIn(bundle, [0, 1]));
        Assert.Equal([new LoraTarget(1, "fc2")], LoraFrames.AdaptedIn(bundle, [1]));
        Assert.Empty(LoraFrames.AdaptedIn(null, [0, 1]));

        var received = new LoraAdapterSet(TinyVitConfig.Tiny, 4, 16f, LoraFrames.AdaptedIn(bundle, [0, 1]));
        Assert.Equal(3, LoraFrames.Import(bundle, received));
        Assert.Equal((float)(Half)adapters.Adapters[0].A[5], received.Adapters[0].A[5]);
    }
}
