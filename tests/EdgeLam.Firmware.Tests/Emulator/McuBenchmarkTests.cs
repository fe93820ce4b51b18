using EdgeLam.Boards;
using EdgeLam.Firmware.Emulator.Benchmarks;

namespace EdgeLam.Firmware.Tests.Emulator;

public sealed class McuBenchmarkTests
{
    [Fact]
    public void The_benchmark_reports_every_stage_of_both_integer_variants_every_linear_shape_and_the_chain_accuracies()
    {
        var board = BoardProfileLoader.LoadBuiltIn().Single(b => b.Id == "esp32-wrover");
        var result = McuBenchmark.Run(TestModel.Model.Weights, TestModel.Model.Data, board, accuracyImages: 200, kernelRepetitions: 20, calibrationImages: 128);
        string[] pipeline = ["embed", "block0", "block1", "head"];
        Assert.Equal([.. pipeline, .. pipeline], result.Stages.Select(s => s.StageId));
        Assert.Equal(["int8", "pruned_int8"], result.Stages.Select(s => s.Variant).Distinct());
        Assert.All(result.Stages, s => Assert.True(s.Fits && s.FitsInlineDeployment && s.MultiplyAccumulates > 0 && s.BlobBytes > 0));
        Assert.Equal(["embed", "q/k/v/o", "fc1", "fc2", "head"], result.Kernels.Select(k => k.Layer));
        Assert.All(result.Kernels, k => Assert.True(k.FirmwareMacsPerSecond > 0 && k.OnnxRuntimeQGemmMacsPerSecond > 0 && k.OnnxRuntimeMatMulIntegerMacsPerSecond > 0));
        var fp32 = result.Chain("fp32").Accuracy;
        Assert.InRange(result.Chain("int8-firmware-integer-only").Accuracy, fp32 - 0.05, 1.0);
        Assert.True(result.Chain("int8-firmware-integer-only").AgreementWithFp32 >= 0.9, result.ToJson());
        Assert.InRange(result.MaximumBlockErrorSteps, 0, Stages.Int8EncoderStagesTests.BlockBoundSteps);
        Assert.Contains("\"firmwareOverOnnxRuntime\"", result.ToJson(), StringComparison.Ordinal);
    }
}
