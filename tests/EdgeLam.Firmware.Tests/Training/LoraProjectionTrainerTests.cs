using EdgeLam.Contracts.Wire;
using EdgeLam.Firmware.Emulator.Hosting;
using EdgeLam.Firmware.Tests.Emulator;
using EdgeLam.Firmware.Training;
using EdgeLam.Model.Data;

namespace EdgeLam.Firmware.Tests.Training;

public sealed class LoraProjectionTrainerTests
{
    [Fact]
    public void Rank4_lora_on_the_last_fc2_reduces_loss_on_a_real_non_iid_shard()
    {
        var model = TestModel.Model;
        var config = model.Weights.Config;
        var partition = DirichletPartitioner.Partition(model.Data.Train, new DirichletPartitionOptions(8, 0.3, 11, model.PublicImages, 3));
        var shard = FrozenActivationShard.Compute(model.Weights, model.Data.Train.Subset(partition.DeviceIndices[2].Take(192).ToArray()));
        var host = new ModelTrainingHost(model.Weights, model.BaseModelId, model.Data.Train, model.PublicImages, 3, 192);
        var trainer = new LoraProjectionTrainer(config.Layers - 1, "fc2", config.MlpDim, config.ModelDim, config.Tokens, 4, 8f, host.Head, 5);
        var all = Enumerable.Range(0, shard.Count).ToArray();

        var before = trainer.Loss(shard, all);
        for (int step = 0; step < 40; step++)
            trainer.Step(shard, all.Skip(step * 32 % shard.Count).Take(32).ToArray(), 0.05f, 0.9f);
        var after = trainer.Loss(shard, all);

        Assert.True(after < before * 0.9, $"loss {before:F4} -> {after:F4}");
        Assert.True(trainer.TrainingStateBytes < 786_432);

        var bundle = new TensorBundle("{}"u8.ToArray());
        trainer.AddQuantizedFactors(bundle);
        var a = bundle.GetRequired($"layers.{config.Layers - 1}.fc2.a");
        Assert.Equal([4, config.MlpDim], a.Shape);
        Assert.Equal(QuantizationKind.PerTensor, a.Quantization);
        Assert.Equal(0, a.ZeroPoints[0]);
        var values = a.ToInt8Array();
        Assert.Contains(values, v => v is 127 or -127);
        for (int i = 0; i < values.Length; i++)
            Assert.True(Math.Abs((values[i] * a.Scales[0]) - trainer.A[i]) <= a.Scales[0] / 2 + 1e-7);
    }

    [Fact]
    public void Float_exp_and_log_match_the_runtime_within_single_precision()
    {
        foreach (var x in new[] { -20f, -3.3f, -0.5f, 0f, 0.7f, 5f, 30f })
            Assert.Equal(MathF.Exp(x), FloatMath.Exp(x), MathF.Exp(x) * 2e-6f);
        foreach (var x in new[] { 1e-20f, 0.01f, 0.5f, 1f, 7.5f, 1e10f })
            Assert.Equal(MathF.Log(x), FloatMath.Log(x), 1e-5f * Math.Max(1f, Math.Abs(MathF.Log(x))));
    }
}
