using CsCheck;
using EdgeLam.Gateway.Training;
using EdgeLam.Gateway.Training.Aggregation;
using EdgeLam.Gateway.Training.Strategies;
using EdgeLam.Model.Architecture;
using static EdgeLam.Gateway.Tests.Training.TrainingFixtures;

namespace EdgeLam.Gateway.Tests.Training;

public class ClippingAndMergingTests
{
    [Fact]
    public void Low_rank_norm_equals_the_norm_of_the_dense_product()
    {
        var cases = from rank in Gen.Int[1, 6]
                    from seed in Gen.Int
                    select (rank, seed);
        cases.Sample((rank, seed) =>
        {
            var factors = RandomFactors(Layout.Projections[4], rank, new Random(seed));
            Assert.Equal(Dense(factors).FrobeniusNorm(), LowRankNorm.Frobenius(factors), 1e-5);
        }, iter: 50);
    }

    [Fact]
    public void Clipping_bounds_a_large_update_and_leaves_small_ones_alone()
    {
        var small = RandomReply("pi-1", 400, 4, null, seed: 30);
        var large = RandomReply("pi-2", 400, 4, null, seed: 31) is var r
            ? r with { Trained = ModelParameters.FromAdapters(r.Trained.Adapters.ToDictionary(e => e.Key, e => e.Value with { B = e.Value.B.Select(v => v * 100).ToArray() })) }
            : r;
        var smallNorm = Math.Sqrt(small.Trained.Adapters.Values.Sum(f => Math.Pow(LowRankNorm.Frobenius(f), 2)));
        var bound = smallNorm * 1.01;

        var clipping = new UpdateNormClippingStrategy(new FedFtHStrategy(), bound);
        var clipped = clipping.AggregateTrain(Context(), [small, large], []);
        var onlySmall = new FedFtHStrategy().AggregateTrain(Context(), [small], []);

        Assert.Equal("fedft_h+clip", clipping.Name);
        Assert.Contains("1 updates clipped", clipped.Summary);
        // The clipped device now weighs in with norm = bound, so the aggregate stays near the small update's scale.
        var aggregateNorm = Math.Sqrt(clipped.Global.Parameters.Adapters.Values.Sum(f => Math.Pow(LowRankNorm.Frobenius(f), 2)));
        Assert.True(aggregateNorm <= bound * (1 + 1e-5), $"aggregate norm {aggregateNorm} exceeds the bound {bound}");
        var unclipped = new UpdateNormClippingStrategy(new FedFtHStrategy(), 1e9).AggregateTrain(Context(), [small], []);
        Assert.Equal(Dense(onlySmall.Global.Parameters.Adapters["blocks.0.q"]).Values, Dense(unclipped.Global.Parameters.Adapters["blocks.0.q"]).Values);
    }

    [Fact]
    public void Clipping_full_weights_scales_the_difference_from_the_global_weights()
    {
        var global = GlobalModelState.FromBaseWeights(new Dictionary<string, float[]> { ["head.W"] = [1f, 1f] });
        var reply = new TrainingReply("jetson-1", 10, ModelParameters.FromFullWeights(new Dictionary<string, float[]> { ["head.W"] = [4f, 5f] }), 8);
        // A layout without the model's tensor table, so the two-value "head.W" is the whole model.
        var context = Context(global) with { Layout = new AdapterLayout(Layout.Projections) };
        var result = new UpdateNormClippingStrategy(new FullFedAvgStrategy(), 1.0).AggregateTrain(context, [reply], []);
        // Difference (3, 4) has norm 5; clipped to norm 1 it is (0.6, 0.8).
        Assert.Equal(1.6f, result.Global.Parameters.FullWeights["head.W"][0], 1e-6f);
        Assert.Equal(1.8f, result.Global.Parameters.FullWeights["head.W"][1], 1e-6f);
    }

    [Fact]
    public void Clipping_passes_malformed_replies_through_to_be_rejected()
    {
        var poisoned = RandomReply("pi-1", 400, 4, null, seed: 32);
        poisoned.Trained.Adapters["blocks.0.k"].A[1] = float.NaN;
        var result = new UpdateNormClippingStrategy(new FedFtHStrategy(), 0.1).AggregateTrain(Context(), [poisoned], []);
        Assert.Equal(AggregationOutcome.KeptPreviousState, result.Outcome);
        Assert.Contains("blocks.0.k.A[1] is NaN", Assert.Single(result.Rejected).Reason);
    }

    [Fact]
    public void Merging_adds_the_scaled_product_to_the_named_projection()
    {
        var weights = new TinyVitWeights(TinyVitConfig.Tiny);
        var projection = Layout.Projections.Single(p => p.Name == "blocks.1.fc2");
        var factors = RandomFactors(projection, 3, new Random(33));
        AdapterMerging.MergeInto(weights, new Dictionary<string, LoraFactors> { [projection.Name] = factors });

        Assert.Equal(factors.ToDenseDelta(), weights.Blocks[1].Fc2.W);
        Assert.All(weights.Blocks[0].Fc2.W, v => Assert.Equal(0f, v));
        var error = Assert.Throws<ArgumentException>(() =>
            AdapterMerging.MergeInto(weights, new Dictionary<string, LoraFactors> { ["blocks.5.q"] = factors }));
        Assert.Contains("blocks.5.q names no projection of a 2-layer model", error.Message);
    }
}
