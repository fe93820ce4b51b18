using EdgeLam.Model.Architecture;
using EdgeLam.Model.Data;
using EdgeLam.Model.Lora;
using EdgeLam.Model.Tests.Data;
using EdgeLam.Model.Training;
using Xunit.Abstractions;

namespace EdgeLam.Model.Tests.Training;

public sealed class TrainerTests(ITestOutputHelper output)
{
    private static readonly TinyVitConfig Config = TinyVitConfig.Tiny;

    [Fact]
    public void Full_training_is_deterministic_and_lowers_the_loss()
    {
        Dataset train = SharedData.Fashion.Train.Take(256);
        var options = new TrainingOptions { Epochs = 3, BatchSize = 32, LearningRate = 3e-3f, Seed = 5 };
        var first = TinyVitModel.CreateRandom(Config, seed: 1);
        var second = TinyVitModel.CreateRandom(Config, seed: 1);
        TrainingResult firstResult = Trainer.Train(first, train, options, TrainingMode.Full);
        TrainingResult secondResult = Trainer.Train(second, train, options, TrainingMode.Full);

        Assert.Equal(24, firstResult.Steps);
        Assert.Equal(firstResult.LossHistory, secondResult.LossHistory);
        Assert.Equal(first.Weights.Head.W, second.Weights.Head.W);
        double early = firstResult.LossHistory.Take(4).Average(), late = firstResult.LossHistory.TakeLast(4).Average();
        Assert.True(late < early - 0.3, $"loss {early:F3} -> {late:F3}");
    }

    [Fact]
    public void Lora_fine_tuning_on_device_data_improves_accuracy_and_leaves_the_base_bit_identical()
    {
        FashionMnistData data = SharedData.Fashion;
        var partition = DirichletPartitioner.Partition(data.Train,
            new DirichletPartitionOptions(DeviceCount: 2, Alpha: 5, Seed: 3, PublicCount: 400, PublicSeed: 1, DevicePoolCount: 1600));
        Dataset publicSlice = data.Train.Subset(partition.PublicIndices);
        Dataset device = data.Train.Subset(partition.DeviceIndices[0]);
        Dataset test = data.Test.Take(1000);

        var model = TinyVitModel.CreateRandom(Config, seed: 2);
        Trainer.Train(model, publicSlice, new TrainingOptions { Epochs = 2, BatchSize = 32, LearningRate = 3e-3f, Seed = 1 }, TrainingMode.Full);
        double before = model.Evaluate(test);
        TinyVitWeights frozen = model.Weights.Clone();

        model.Adapters = LoraAdapterSet.Create(Config, rank: 4, alpha: 8, seed: 4);
        TrainingResult result = Trainer.Train(model, device, new TrainingOptions { Epochs = 3, BatchSize = 32, LearningRate = 1e-2f, Seed = 2 }, TrainingMode.LoraOnly);
        double after = model.Evaluate(test);
        output.WriteLine($"device images {device.Count}, accuracy {before:P1} -> {after:P1}, loss {result.LossHistory[0]:F3} -> {result.FinalLoss:F3}");

        Assert.True(after > before + 0.03, $"accuracy {before:P1} -> {after:P1}");
        foreach (var (now, then) in model.Weights.Tensors().Zip(frozen.Tensors()))
            Assert.True(now.Values.AsSpan().SequenceEqual(then.Values), $"base tensor {now.Name} changed");
        Assert.Contains(model.Adapters.Adapters, adapter => adapter.B.Any(value => value != 0));
    }

    [Fact]
    public void Lora_only_training_without_adapters_is_a_clear_error()
    {
        var model = TinyVitModel.CreateRandom(Config, seed: 1);
        var error = Assert.Throws<ArgumentException>(() => Trainer.Train(model, SharedData.Fashion.Train.Take(10), new TrainingOptions(), TrainingMode.LoraOnly));
        Assert.Contains("adapter", error.Message);
    }

    [Fact]
    public void Learning_rate_warms_up_then_decays_to_zero()
    {
        var options = new TrainingOptions { LearningRate = 1f };
        Assert.Equal(0.1f, Trainer.LearningRateAt(0, 100, 10, options), 5);
        Assert.Equal(1f, Trainer.LearningRateAt(10, 100, 10, options), 5);
        Assert.Equal(0.5f, Trainer.LearningRateAt(55, 100, 10, options), 5);
        Assert.True(Trainer.LearningRateAt(99, 100, 10, options) < 0.01f);
    }
}
