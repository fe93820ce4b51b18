using EdgeLam.Model.Onnx;
using EdgeLam.Model.Variants;

namespace EdgeLam.Model.Tests.Variants;

public sealed class MlpChannelPruningTests
{
    [Fact]
    public void Pruned_model_computes_what_the_original_computes_with_the_pruned_hidden_units_silenced()
    {
        var weights = TestModels.RandomTiny(seed: 31);
        var pruned = MlpChannelPruning.Prune(weights, 0.25);
        Assert.Equal(24, pruned.Config.MlpDim);

        // Silencing a hidden unit = zero fc1 row and bias (GELU(0) = 0) and zero fc2 column.
        var silenced = weights.Clone();
        foreach (var (block, b) in silenced.Blocks.Select((block, b) => (block, b)))
        {
            var kept = MlpChannelPruning.KeptUnits(weights.Blocks[b], 24).ToHashSet();
            for (var unit = 0; unit < block.Fc1.Out; unit++)
            {
                if (kept.Contains(unit))
                    continue;
                Array.Clear(block.Fc1.W, unit * block.Fc1.In, block.Fc1.In);
                block.Fc1.B[unit] = 0;
                for (var o = 0; o < block.Fc2.Out; o++)
                    block.Fc2.W[o * block.Fc2.In + unit] = 0;
            }
        }
        var pixels = TestModels.RandomPixels(weights.Config, 4);
        var expected = new ReferenceStageForward(silenced, FloatLinearExecutor.Instance).Run(ModelStage.Whole, pixels, 4);
        var actual = new ReferenceStageForward(pruned, FloatLinearExecutor.Instance).Run(ModelStage.Whole, pixels, 4);
        Assert.True(TestModels.MaxAbsDifference(expected, actual) < 1e-5f);
    }

    [Fact]
    public void Kept_units_are_the_ones_with_the_largest_path_norm()
    {
        var weights = TestModels.RandomTiny(seed: 32);
        var block = weights.Blocks[0];
        // Make unit 5 negligible and unit 9 dominant.
        Array.Clear(block.Fc1.W, 5 * block.Fc1.In, block.Fc1.In);
        for (var i = 0; i < block.Fc1.In; i++)
            block.Fc1.W[9 * block.Fc1.In + i] *= 100;
        var kept = MlpChannelPruning.KeptUnits(block, 8);
        Assert.Contains(9, kept);
        Assert.DoesNotContain(5, kept);
        Assert.Equal(kept.Order(), kept);
    }

    [Fact]
    public void Sparsity_outside_zero_to_one_is_rejected_with_its_value()
    {
        var weights = TestModels.RandomTiny();
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => MlpChannelPruning.Prune(weights, 1.0));
        Assert.Contains("sparsity", error.Message, StringComparison.OrdinalIgnoreCase);
    }
}
