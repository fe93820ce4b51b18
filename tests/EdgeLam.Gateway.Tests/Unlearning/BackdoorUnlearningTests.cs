using EdgeLam.Gateway.Unlearning;
using EdgeLam.Gateway.Unlearning.Verification;
using EdgeLam.Model.Architecture;
using EdgeLam.Model.Data;
using EdgeLam.Model.Training;
using Xunit.Abstractions;

namespace EdgeLam.Gateway.Tests.Unlearning;

/// <summary>A tiny base model pretrained once on real Fashion-MNIST images, shared by the simulation tests.</summary>
public sealed class TinyBaseModelFixture
{
    public TinyBaseModelFixture()
    {
        Data = FashionMnist.Load();
        var (publicIndices, _) = DirichletPartitioner.SelectPublicSlice(Data.Train, PublicImages, PublicSeed);
        var model = TinyVitModel.CreateRandom(TinyVitConfig.Tiny, PublicSeed);
        Trainer.Train(model, Data.Train.Subset(publicIndices), new EdgeLam.Model.Training.TrainingOptions
        {
            Epochs = 3, BatchSize = 64, LearningRate = 5e-3f, Seed = PublicSeed,
        }, TrainingMode.Full);
        Weights = model.Weights;
    }

    public const int PublicImages = 1000;
    public const int PublicSeed = 11;

    public FashionMnistData Data { get; }

    public TinyVitWeights Weights { get; }

    public FederatedSimulationOptions Options(int rounds) => new()
    {
        DeviceRanks = [8, 8, 4],
        ImagesPerDevice = 160,
        PublicImages = PublicImages,
        PublicSeed = PublicSeed,
        PoisonFraction = 0.6,
        Rounds = rounds,
        LocalSteps = 15,
        BatchSize = 32,
        LearningRate = 1e-2,
        CalibrationRounds = 1,
        TestImages = 500,
    };
}

public sealed class BackdoorUnlearningTests(TinyBaseModelFixture fixture, ITestOutputHelper output) : IClassFixture<TinyBaseModelFixture>
{
    [Fact]
    public async Task With_one_round_exact_recompute_is_the_federation_retrained_without_the_device()
    {
        var result = await FederatedSimulation.RunAsync(fixture.Weights, fixture.Data, fixture.Options(rounds: 1) with { CalibrationRounds = 0 });
        output.WriteLine(result.ToTable());

        // The other devices' round-1 updates do not depend on the attacker, so the stored history is the retrain.
        Assert.True(result.Method(UnlearningMethodNames.ExactRecompute).RelativeDistanceToRetrained < 1e-6);
        // No round came after the attacker's, so nobody reacted to it and orthogonal projects nothing.
        Assert.True(result.Method(UnlearningMethodNames.Orthogonal).RelativeDistanceToRetrained < 1e-6);
        Assert.True(result.Method(UnlearningMethodNames.Subtract).RelativeDistanceToRetrained < 1e-4);
        Assert.True(result.Original.RelativeDistanceToRetrained > 0.05, "the attacker's contribution must be visible in the original model");
    }

    [Fact]
    public async Task Exact_recompute_and_orthogonal_remove_the_backdoor_that_the_attacker_planted()
    {
        // Two devices, so the attacker's update carries half the weight and the tiny model learns the trigger within two rounds.
        var options = fixture.Options(rounds: 2) with { DeviceRanks = [8, 8], ImagesPerDevice = 200, PoisonFraction = 0.5, LocalSteps = 20 };
        var result = await FederatedSimulation.RunAsync(fixture.Weights, fixture.Data, options);
        output.WriteLine(result.ToTable());

        var original = result.Original;
        var exact = result.Method(UnlearningMethodNames.ExactRecompute);
        Assert.True(original.AttackSuccessRate > result.BaseModel.AttackSuccessRate + 0.1,
            $"the backdoor must be learned before it can be unlearned: attack success {original.AttackSuccessRate:P1}, base model {result.BaseModel.AttackSuccessRate:P1}");
        Assert.True(exact.AttackSuccessRate < original.AttackSuccessRate / 2,
            $"attack success {original.AttackSuccessRate:P1} before, {exact.AttackSuccessRate:P1} after exact_recompute");
        var orthogonal = result.Method(UnlearningMethodNames.Orthogonal);
        Assert.True(orthogonal.AttackSuccessRate < original.AttackSuccessRate / 2,
            $"attack success {original.AttackSuccessRate:P1} before, {orthogonal.AttackSuccessRate:P1} after orthogonal");
        Assert.All(result.Rows(), row => Assert.InRange(row.CleanAccuracy, 0, 1));
        Assert.Equal(4, result.Methods.Count);
    }
}
