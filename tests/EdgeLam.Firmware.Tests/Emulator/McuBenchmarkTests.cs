using EdgeLam.Boards;
using EdgeLam.Firmware.Emulator.Benchmarks;

namespace EdgeLam.Firmware.Tests.Emulator;

public sealed class McuBenchmarkTests
{
    [Fact]
    public void The_benchmark_reports_every_stage_both_kernels_and_both_head_accuracies()
    {
        var board = BoardProfileLoader.LoadBuiltIn().Single(b => b.Id == "esp32-wrover");
        var result = McuBenchmark.Run(TestModel.Model.Weights, TestModel.Model.Data, board, accuracyImages: 300, kernelRepetitions: 50);
        Assert.Equal(["embed", "block0", "block1", "head"], result.Stages.Select(s => s.StageId));
        Assert.All(result.Stages, s => Assert.True(s.Fits && s.MultiplyAccumulates > 0));
        Assert.True(result.FirmwareKernelMacsPerSecond > 0 && result.OnnxRuntimeInt8MacsPerSecond > 0);
        Assert.True(result.IntegerHeadAgreement >= 0.95, result.ToJson());
        Assert.InRange(result.IntegerHeadAccuracy, result.Fp32HeadAccuracy - 0.05, result.Fp32HeadAccuracy + 0.05);
        Assert.Contains("\"firmwareOverOnnxRuntime\"", result.ToJson(), StringComparison.Ordinal);
        Console.WriteLine(result.ToJson());
    }
}
