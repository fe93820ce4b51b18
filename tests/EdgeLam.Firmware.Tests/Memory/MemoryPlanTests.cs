using EdgeLam.Boards;
using EdgeLam.Model.Quantization;
using EdgeLam.Firmware.Memory;
using EdgeLam.Model.Architecture;

namespace EdgeLam.Firmware.Tests.Memory;

public sealed class MemoryPlanTests
{
    private static MemoryBudget Wrover()
    {
        var board = BoardProfileLoader.LoadBuiltIn().Single(b => b.Id == "esp32-wrover");
        return new MemoryBudget(board.Id, board.Memory.ModelBudgetBytes.Value, board.Memory.FlashBytes.Value, board.Memory.TrainingBudgetBytes.Value);
    }

    [Fact]
    public void Block_plan_counts_weights_activations_and_scratch_of_the_default_model()
    {
        var block = StageMemoryPlan.ForInt8(Int8StageBlobBuilder.Pipeline(new TinyVitConfig())[1], 0);
        // d=64, mlp=128, 16 tokens: six linears (int8 weights + 20 bytes per channel), two LayerNorms (16 bytes per feature),
        // the GELU table and the softmax table.
        Assert.Equal((4 * (4096 + (64 * 20))) + (8192 + (128 * 20)) + (8192 + (64 * 20)) + (2 * 64 * 16) + 256 + 1024, block.WeightBytes);
        // Residual stream, normalized, Q, K, V, context and branch (16×64 each), hidden (16×128), one head's scores and probabilities (16×16 each).
        Assert.Equal((7 * 16 * 64) + (16 * 128) + (2 * 16 * 16), block.ActivationBytes);
        Assert.Equal(((4 * 64) + 128 + 64) * 4, block.ScratchBytes);
        Assert.Equal(557_056, block.Shape.MultiplyAccumulates);
    }

    [Fact]
    public void The_whole_default_pipeline_fits_the_wrover_and_a_bigger_block_is_refused_with_numbers()
    {
        var plan = new DeviceMemoryPlan(Wrover());
        foreach (var shape in Int8StageBlobBuilder.Pipeline(new TinyVitConfig()))
            plan.Admit(StageMemoryPlan.ForInt8(shape, 50_000));
        Assert.True(plan.PeakRamBytes < plan.Budget.ModelRamBytes);

        var huge = new StageShape("block2", StageKind.Block, 64, 256, 4, 2048, 49, 10);
        var error = Assert.Throws<MemoryBudgetExceededException>(() => plan.CheckFits(StageMemoryPlan.ForInt8(huge, 0)));
        Assert.Matches(@"^stage block2 int8 needs \d+ KiB RAM, board esp32-wrover allows 1024 KiB$", error.Message);
        Assert.True(error.NeededBytes > error.AllowedBytes);
    }

    [Fact]
    public void Resident_weights_add_up_while_working_sets_are_shared()
    {
        var budget = new MemoryBudget("tiny-board", 120_000, 1_000_000, 10_000);
        var plan = new DeviceMemoryPlan(budget);
        var shapes = Int8StageBlobBuilder.Pipeline(new TinyVitConfig());
        var block0 = StageMemoryPlan.ForInt8(shapes[1], 0);
        var block1 = StageMemoryPlan.ForInt8(shapes[2], 0);
        plan.Admit(block0);
        plan.Admit(block1);
        Assert.Equal(block0.WeightBytes + block1.WeightBytes + block0.ActivationBytes + block0.ScratchBytes, plan.PeakRamBytes);
        var error = Assert.Throws<MemoryBudgetExceededException>(() => plan.Admit(StageMemoryPlan.ForInt8(shapes[3], 0)));
        Assert.Contains("with 2 deployed stages needs", error.Message, StringComparison.Ordinal);
        Assert.True(plan.Remove("block0"));
        plan.Admit(StageMemoryPlan.ForInt8(shapes[3], 0));
        Assert.Throws<MemoryBudgetExceededException>(() => plan.CheckTrainingFits("rank-4 LoRA", 20_000));
    }
}
