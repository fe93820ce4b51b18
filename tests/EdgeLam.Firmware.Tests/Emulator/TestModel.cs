using EdgeLam.Firmware.Emulator;
using EdgeLam.Model.Architecture;
using EdgeLam.Model.Checkpoints;
using EdgeLam.Model.Data;

namespace EdgeLam.Firmware.Tests.Emulator;

/// <summary>A small pretrained base model on real Fashion-MNIST, trained once per machine and cached under the temp folder.</summary>
public static class TestModel
{
    private static readonly Lazy<EmulatorModel> Shared = new(Load);

    public static readonly PretrainingBudget Budget = new() { PublicImages = 2000, Epochs = 2, EvaluationImages = 500 };

    public static EmulatorModel Model => Shared.Value;

    private static EmulatorModel Load()
    {
        var data = FashionMnist.Load();
        var directory = Path.Combine(Path.GetTempPath(), "edgelam-firmware-test-checkpoints");
        var checkpoint = BaseCheckpoint.LoadOrTrain(TinyVitConfig.Tiny, 3, directory, Budget, data);
        return new EmulatorModel(checkpoint.Weights, checkpoint.ModelId, data, Budget.PublicImages);
    }
}
