using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using EdgeLam.Model.Architecture;
using EdgeLam.Model.Variants;

namespace EdgeLam.Model.Benchmarks;

/// <summary>One variant's measured accuracy (fractions in [0, 1]) and serialized ONNX size.</summary>
public sealed record VariantResult(
    ModelVariant Variant, double Accuracy, int Bytes, IReadOnlyDictionary<string, double> SwappedStageAccuracy,
    IReadOnlyDictionary<string, int> StageBytes, double MlpSparsity);

/// <summary>Median forward latency of one stage on one batch, three ways, measured in the same run.</summary>
public sealed record StageTiming(
    string Stage, int Batch, int OnnxThreads, int Repetitions,
    double ManagedFp32Microseconds, double OnnxFp32Microseconds, double OnnxInt8Microseconds)
{
    public double ManagedToOnnxFp32Ratio => ManagedFp32Microseconds / OnnxFp32Microseconds;
}

/// <summary>Everything <see cref="ModelBenchmark"/> measured; printed as one JSON object or as a table.</summary>
public sealed record ModelBenchmarkResult
{
    /// <summary>Targets the figures are held against (accuracy points are fractions of 1).</summary>
    public const double Int8Tolerance = 0.01, PrunedInt8Tolerance = 0.03, LoraTolerance = 0.015, ManagedSlowdownLimit = 2.0;

    public required TinyVitConfig Config { get; init; }
    public required string BaseModelId { get; init; }
    public required int TestImages { get; init; }
    public required int FineTuneImages { get; init; }
    public required int DeviceCount { get; init; }
    public required int LoraRank { get; init; }
    public required double BaseAccuracy { get; init; }
    public required double LoraAccuracy { get; init; }
    public required double FullFineTuneAccuracy { get; init; }
    public required double LoraTrainSamplesPerSecond { get; init; }
    public required double FullTrainSamplesPerSecond { get; init; }
    public required int LoraParameters { get; init; }
    public required int BaseParameters { get; init; }
    public required IReadOnlyList<VariantResult> Variants { get; init; }
    public required double OnnxFp32MaxAbsError { get; init; }
    public required StageTiming Timing { get; init; }
    public required TimeSpan Elapsed { get; init; }

    public VariantResult this[ModelVariant variant] => Variants.First(v => v.Variant == variant);

    public bool Int8WithinTarget => this[ModelVariant.Fp32].Accuracy - this[ModelVariant.Int8].Accuracy <= Int8Tolerance;
    public bool PrunedInt8WithinTarget => this[ModelVariant.Fp32].Accuracy - this[ModelVariant.PrunedInt8].Accuracy <= PrunedInt8Tolerance;
    public bool LoraWithinTarget => FullFineTuneAccuracy - LoraAccuracy <= LoraTolerance;
    public bool ManagedSpeedWithinTarget => Timing.ManagedToOnnxFp32Ratio <= ManagedSlowdownLimit;

    public JsonObject ToJson()
    {
        var variants = new JsonObject();
        foreach (var v in Variants)
        {
            variants[v.Variant.WireName()] = new JsonObject
            {
                ["accuracy"] = Round(v.Accuracy),
                ["bytes"] = v.Bytes,
                ["mlp_sparsity"] = v.MlpSparsity,
                ["swapped_stage_accuracy"] = ToObject(v.SwappedStageAccuracy.Select(p => (p.Key, (JsonNode?)Round(p.Value)))),
                ["stage_bytes"] = ToObject(v.StageBytes.Select(p => (p.Key, (JsonNode?)p.Value))),
            };
        }
        return new JsonObject
        {
            ["base_model_id"] = BaseModelId,
            ["config"] = new JsonObject
            {
                ["image_size"] = Config.ImageSize, ["patch_size"] = Config.PatchSize, ["model_dim"] = Config.ModelDim,
                ["layers"] = Config.Layers, ["heads"] = Config.Heads, ["mlp_dim"] = Config.MlpDim, ["classes"] = Config.Classes,
            },
            ["test_images"] = TestImages,
            ["fine_tune_images"] = FineTuneImages,
            ["devices"] = DeviceCount,
            ["lora_rank"] = LoraRank,
            ["base_accuracy"] = Round(BaseAccuracy),
            ["lora_accuracy"] = Round(LoraAccuracy),
            ["full_finetune_accuracy"] = Round(FullFineTuneAccuracy),
            ["variants"] = variants,
            ["ort_fp32_max_abs_error"] = OnnxFp32MaxAbsError,
            ["forward_us"] = new JsonObject
            {
                ["stage"] = Timing.Stage,
                ["batch"] = Timing.Batch,
                ["ort_threads"] = Timing.OnnxThreads,
                ["repetitions"] = Timing.Repetitions,
                ["managed_fp32"] = Math.Round(Timing.ManagedFp32Microseconds, 1),
                ["ort_fp32"] = Math.Round(Timing.OnnxFp32Microseconds, 1),
                ["ort_int8"] = Math.Round(Timing.OnnxInt8Microseconds, 1),
                ["managed_to_ort_fp32_ratio"] = Math.Round(Timing.ManagedToOnnxFp32Ratio, 3),
            },
            ["train_samples_per_second"] = Math.Round(LoraTrainSamplesPerSecond, 1),
            ["full_train_samples_per_second"] = Math.Round(FullTrainSamplesPerSecond, 1),
            ["lora_parameters"] = LoraParameters,
            ["base_parameters"] = BaseParameters,
            ["targets"] = new JsonObject
            {
                ["int8_within_1_point_of_fp32"] = Int8WithinTarget,
                ["pruned_int8_within_3_points_of_fp32"] = PrunedInt8WithinTarget,
                ["lora_within_1_5_points_of_full_finetune"] = LoraWithinTarget,
                ["managed_fp32_at_most_2x_ort_fp32"] = ManagedSpeedWithinTarget,
            },
            ["elapsed_seconds"] = Math.Round(Elapsed.TotalSeconds, 1),
        };
    }

    public string ToJsonText() => ToJson().ToJsonString(new JsonSerializerOptions { WriteIndented = true });

    /// <summary>A readable report: accuracies in percent, sizes in bytes, latency in microseconds.</summary>
    public string ToTable()
    {
        var text = new StringBuilder();
        void Line(FormattableString line) => text.AppendLine(line.ToString(CultureInfo.InvariantCulture));
        Line($"Model benchmark (base {BaseModelId}, {TestImages} test images, {Elapsed.TotalSeconds:F0} s)");
        Line($"  base parameters {BaseParameters}, LoRA r={LoraRank} parameters {LoraParameters}");
        Line($"  base accuracy             {BaseAccuracy * 100,7:F2} %");
        Line($"  full fine-tune accuracy   {FullFineTuneAccuracy * 100,7:F2} %   ({FineTuneImages} images of {DeviceCount} device shards, {FullTrainSamplesPerSecond:F0} samples/s)");
        Line($"  LoRA fine-tune accuracy   {LoraAccuracy * 100,7:F2} %   ({LoraTrainSamplesPerSecond:F0} samples/s)  {Verdict(LoraWithinTarget)} within 1.5 points of full");
        text.AppendLine();
        var stages = Variants[0].SwappedStageAccuracy.Keys.ToArray();
        text.Append(CultureInfo.InvariantCulture, $"  {"variant",-12} {"accuracy",9} {"bytes",9}");
        foreach (var stage in stages)
            text.Append(CultureInfo.InvariantCulture, $" {stage,8}");
        text.AppendLine();
        foreach (var v in Variants)
        {
            text.Append(CultureInfo.InvariantCulture, $"  {v.Variant.WireName(),-12} {v.Accuracy * 100,8:F2}% {v.Bytes,9}");
            foreach (var stage in stages)
                text.Append(CultureInfo.InvariantCulture, $" {v.SwappedStageAccuracy[stage] * 100,7:F2}%");
            text.AppendLine();
        }
        Line($"  (stage columns: that stage alone in the variant, the others FP32)");
        Line($"  INT8 {Verdict(Int8WithinTarget)} within 1 point of FP32; Pruned-INT8 ({this[ModelVariant.PrunedInt8].MlpSparsity:P0} of MLP units removed) {Verdict(PrunedInt8WithinTarget)} within 3 points");
        text.AppendLine();
        Line($"  ONNX Runtime FP32 vs managed forward: max abs error {OnnxFp32MaxAbsError:E2}");
        Line($"  {Timing.Stage}, batch {Timing.Batch}, median of {Timing.Repetitions}: managed FP32 {Timing.ManagedFp32Microseconds:F0} us, ORT FP32 {Timing.OnnxFp32Microseconds:F0} us ({Timing.OnnxThreads} threads), ORT INT8 {Timing.OnnxInt8Microseconds:F0} us");
        Line($"  managed / ORT FP32 = {Timing.ManagedToOnnxFp32Ratio:F2}  {Verdict(ManagedSpeedWithinTarget)} at most 2x");
        return text.ToString();
    }

    private static string Verdict(bool met) => met ? "[met]" : "[NOT met]";

    private static double Round(double fraction) => Math.Round(fraction, 5);

    private static JsonObject ToObject(IEnumerable<(string Key, JsonNode? Value)> pairs)
    {
        var result = new JsonObject();
        foreach (var (key, value) in pairs)
            result[key] = value;
        return result;
    }
}
