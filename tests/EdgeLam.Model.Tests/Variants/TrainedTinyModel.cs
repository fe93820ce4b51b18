using EdgeLam.Model.Architecture;
using EdgeLam.Model.Tests.Data;
using EdgeLam.Model.Training;

namespace EdgeLam.Model.Tests.Variants;

/// <summary>A tiny model trained briefly on real Fashion-MNIST, shared by the variant accuracy tests.</summary>
internal static class TrainedTinyModel
{
    private static readonly Lazy<TinyVitModel> LazyModel = new(() =>
    {
        var model = TinyVitModel.CreateRandom(TinyVitConfig.Tiny, seed: 21);
        var training = SharedData.Fashion.Train.Take(3000);
        Trainer.Train(model, training, new TrainingOptions { Epochs = 2, BatchSize = 32, LearningRate = 3e-3f, Seed = 4 }, TrainingMode.Full);
        return model;
    });

    public static TinyVitModel Model => LazyModel.Value;
}
