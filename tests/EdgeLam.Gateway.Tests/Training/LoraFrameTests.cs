using EdgeLam.Contracts.Messages;
using EdgeLam.Contracts.Wire;
using EdgeLam.Gateway.Training;
using EdgeLam.Gateway.Training.Frames;
using EdgeLam.Gateway.Training.Strategies;
using static EdgeLam.Gateway.Tests.Training.TrainingFixtures;

namespace EdgeLam.Gateway.Tests.Training;

public class LoraFrameTests
{
    private static byte[] UpdateBytes(TrainingReply reply, Precision precision, int round = 2, Func<string, string>? rename = null)
    {
        var rank = reply.Trained.Adapters.Values.First().Rank;
        var frames = new List<KeyValuePair<string, TensorFrame>>();
        foreach (var (name, factors) in reply.Trained.Adapters)
        {
            Assert.True(ProjectionNames.TryParse(name, out var layer, out var kind));
            frames.Add(new((rename ?? (n => n))(LoraFrameName.Of(layer, kind, true)), Frame(factors.A, [rank, factors.InFeatures], precision)));
            frames.Add(new((rename ?? (n => n))(LoraFrameName.Of(layer, kind, false)), Frame(factors.B, [factors.OutFeatures, rank], precision)));
        }
        var layers = reply.Trained.Adapters.Keys.Select(n => ProjectionNames.TryParse(n, out var l, out _) ? l : -1).Distinct().Order().ToArray();
        var header = new LoraUpdateHeader
        {
            Round = round, Rank = rank, Layers = layers, Precision = precision, SampleCount = reply.ExampleCount,
            LocalSteps = 5, TrainingLoss = 0.7, BaseModelId = "tinyvit-test",
        };
        return MessageBundle<LoraUpdateHeader>.Create(header, frames).Encode();
    }

    private static TensorFrame Frame(float[] values, int[] shape, Precision precision) => precision switch
    {
        Precision.Int8 => TensorFrame.QuantizePerChannel(values, shape, 0),
        Precision.Fp16 => TensorFrame.FromFloats(values, shape, TensorDataType.Float16),
        _ => TensorFrame.FromFloats(values, shape),
    };

    [Theory]
    [InlineData(Precision.Fp32, 0.0)]
    [InlineData(Precision.Fp16, 1e-3)]
    [InlineData(Precision.Int8, 0.5 / 127)]
    public void Update_bundles_decode_to_de_quantized_factors_with_the_device_scale(Precision precision, double relativeTolerance)
    {
        var original = RandomReply("esp32-1", 200, 4, [0], seed: 40);
        var bytes = UpdateBytes(original, precision);

        Assert.True(LoraUpdateReader.TryRead("esp32-1", bytes, 2, Alpha, out var reply, out var failure), failure?.Reason);
        Assert.Equal((200, bytes.LongLength), (reply!.ExampleCount, reply.UplinkBytes));
        Assert.Equal(original.Trained.Adapters.Keys.Order(), reply.Trained.Adapters.Keys.Order());
        foreach (var (name, expected) in original.Trained.Adapters)
        {
            var actual = reply.Trained.Adapters[name];
            Assert.Equal((expected.Rank, expected.InFeatures, expected.OutFeatures, Alpha / 4), (actual.Rank, actual.InFeatures, actual.OutFeatures, actual.Scale));
            // Per-channel INT8 is within half a step of the row's largest magnitude; FP16 within its relative precision.
            var bound = relativeTolerance * expected.A.Max(Math.Abs) + 1e-7;
            Assert.All(expected.A.Zip(actual.A), p => Assert.True(Math.Abs(p.First - p.Second) <= bound, $"{p.First} vs {p.Second}"));
        }
    }

    [Fact]
    public void An_int8_update_is_aggregated_like_its_de_quantized_floats()
    {
        var high = RandomReply("jetson-1", 600, 16, null, seed: 41);
        Assert.True(LoraUpdateReader.TryRead("esp32-1", UpdateBytes(RandomReply("esp32-1", 200, 4, [0], seed: 42), Precision.Int8), 2, Alpha, out var low, out _));
        var result = new FedFtHStrategy().AggregateTrain(Context(round: 2), [high, low!], []);
        Assert.Equal(AggregationOutcome.Aggregated, result.Outcome);
        Assert.True(RelativeDifference(ExpectedProductMean("blocks.0.q", high, low!), Dense(result.Global.Parameters.Adapters["blocks.0.q"])) < 1e-5);
    }

    [Fact]
    public void Stale_truncated_or_misnamed_updates_become_failures_with_the_reason()
    {
        var reply = RandomReply("pi-1", 400, 4, [1], seed: 43);

        Assert.False(LoraUpdateReader.TryRead("pi-1", UpdateBytes(reply, Precision.Fp16, round: 1), 2, Alpha, out _, out var stale));
        Assert.Contains("answers round 1, the gateway is aggregating round 2", stale!.Reason);

        var bytes = UpdateBytes(reply, Precision.Fp16);
        Assert.False(LoraUpdateReader.TryRead("pi-1", bytes[..^7], 2, Alpha, out _, out var truncated));
        Assert.Equal("pi-1", truncated!.DeviceId);
        Assert.StartsWith("Update rejected on decoding:", truncated.Reason);

        var misnamed = UpdateBytes(reply, Precision.Fp16, rename: n => n.Replace(".q.", ".query.", StringComparison.Ordinal));
        Assert.False(LoraUpdateReader.TryRead("pi-1", misnamed, 2, Alpha, out _, out var badName));
        Assert.Contains("not a LoRA factor of one of the projections q, k, v, o, fc1, fc2", badName!.Reason);
    }

    [Fact]
    public void Downlinks_encode_to_adapter_bundles_that_decode_to_the_same_factors()
    {
        var result = new FedFtHStrategy().AggregateTrain(
            Context(), [RandomReply("jetson-1", 600, 16, null, seed: 44), RandomReply("esp32-1", 200, 4, [0], seed: 45)], []);
        var downlink = result.Downlinks.Single(d => d.DeviceId == "esp32-1");

        var bundle = AdapterBundleWriter.Write(downlink.Parameters.Adapters, 1, Precision.Fp32, "tinyvit-test");
        var decoded = MessageBundle<AdapterHeader>.Decode(bundle.Encode());

        Assert.Equal((1, 4, Precision.Fp32), (decoded.Header.Round, decoded.Header.Rank, decoded.Header.Precision));
        Assert.Equal([0], decoded.Header.Layers);
        Assert.Equal(12, decoded.Bundle.Count);
        Assert.Equal(downlink.Parameters.Adapters["blocks.0.fc1"].B, decoded.Bundle.GetRequired("layers.0.fc1.b").Dequantize());
        var int8 = AdapterBundleWriter.Write(downlink.Parameters.Adapters, 1, Precision.Int8, "tinyvit-test");
        Assert.Equal(TensorDataType.Int8, int8.Bundle.GetRequired("layers.0.q.a").DataType);
    }

    [Fact]
    public void Adapter_bundles_refuse_mixed_ranks()
    {
        var mixed = new Dictionary<string, LoraFactors>
        {
            ["blocks.0.q"] = RandomFactors(Layout.Projections[0], 4, new Random(1)),
            ["blocks.0.k"] = RandomFactors(Layout.Projections[1], 8, new Random(2)),
        };
        var error = Assert.Throws<ArgumentException>(() => AdapterBundleWriter.Write(mixed, 1, Precision.Fp16, "tinyvit-test"));
        Assert.Contains("one bundle carries one rank", error.Message);
    }
}
