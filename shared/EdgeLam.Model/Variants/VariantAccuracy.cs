using EdgeLam.Model.Architecture;
using EdgeLam.Model.Data;
using EdgeLam.Model.Onnx;

namespace EdgeLam.Model.Variants;

/// <summary>Accuracy of one variant: the whole model in that variant, and each stage swapped alone into an FP32 pipeline.</summary>
public sealed record VariantAccuracyReport(ModelVariant Variant, double WholeModel, IReadOnlyDictionary<string, double> SwappedStages);

/// <summary>
/// Measures variant accuracy the way agents run the variants: in ONNX Runtime, stage by stage. For a swapped stage,
/// the FP32 stages before it run once per batch and are shared by every variant; the variant stage and the FP32
/// stages after it run on their output.
/// </summary>
public static class VariantAccuracy
{
    /// <summary>Reports for every variant in <paramref name="variants"/> (which must include FP32) on <paramref name="test"/>.</summary>
    public static IReadOnlyList<VariantAccuracyReport> Measure(
        IReadOnlyDictionary<ModelVariant, VariantModel> variants, Dataset test, int batchSize = 500, int intraOpThreads = 1)
    {
        ArgumentNullException.ThrowIfNull(variants);
        ArgumentNullException.ThrowIfNull(test);
        if (!variants.TryGetValue(ModelVariant.Fp32, out var fp32))
            throw new ArgumentException("Swapped-stage accuracy needs the FP32 variant as the surrounding pipeline.", nameof(variants));
        if (test.Count == 0)
            throw new ArgumentException("Cannot measure accuracy on an empty dataset.", nameof(test));
        var config = fp32.Weights.Config;
        var pipeline = ModelStage.Pipeline(config);

        var sessions = new List<IDisposable>();
        try
        {
            OnnxStageSession Open(VariantModel variant, ModelStage stage)
            {
                var session = new OnnxStageSession(variant.Export(stage), intraOpThreads);
                sessions.Add(session);
                return session;
            }
            var fp32Stages = pipeline.Select(stage => Open(fp32, stage)).ToArray();
            var measured = variants.Values.OrderBy(v => v.Variant).ToArray();
            var whole = measured.Select(v => Open(v, ModelStage.Whole)).ToArray();
            var swapped = measured.Select(v => v.Variant == ModelVariant.Fp32 ? fp32Stages : pipeline.Select(stage => Open(v, stage)).ToArray()).ToArray();
            var wholeCorrect = new int[measured.Length];
            var swappedCorrect = new int[measured.Length, pipeline.Count];

            for (var start = 0; start < test.Count; start += batchSize)
            {
                var count = Math.Min(batchSize, test.Count - start);
                var labels = test.Labels.AsSpan(start, count);
                var pixels = test.ScaledPixels(start, count);
                // FP32 activations entering each stage: inputs[i] feeds pipeline[i].
                var inputs = new float[pipeline.Count][];
                inputs[0] = pixels;
                for (var i = 1; i < pipeline.Count; i++)
                    inputs[i] = fp32Stages[i - 1].Run(inputs[i - 1], pipeline[i - 1].InputShape(config, count));

                for (var v = 0; v < measured.Length; v++)
                {
                    wholeCorrect[v] += Correct(whole[v].Run(pixels, ModelStage.Whole.InputShape(config, count)), labels, config.Classes);
                    for (var s = 0; s < pipeline.Count; s++)
                    {
                        // FP32 swapped into the FP32 pipeline is the FP32 pipeline: its stage accuracy is the pipeline's.
                        if (measured[v].Variant == ModelVariant.Fp32)
                        {
                            swappedCorrect[v, s] += Correct(fp32Stages[^1].Run(inputs[^1], pipeline[^1].InputShape(config, count)), labels, config.Classes);
                            continue;
                        }
                        var x = swapped[v][s].Run(inputs[s], pipeline[s].InputShape(config, count));
                        for (var after = s + 1; after < pipeline.Count; after++)
                            x = fp32Stages[after].Run(x, pipeline[after].InputShape(config, count));
                        swappedCorrect[v, s] += Correct(x, labels, config.Classes);
                    }
                }
            }

            return measured.Select((variant, v) => new VariantAccuracyReport(
                variant.Variant,
                (double)wholeCorrect[v] / test.Count,
                pipeline.Select((stage, s) => (stage.Name, Accuracy: (double)swappedCorrect[v, s] / test.Count))
                    .ToDictionary(pair => pair.Name, pair => pair.Accuracy))).ToList();
        }
        finally
        {
            foreach (var session in sessions)
                session.Dispose();
        }
    }

    private static int Correct(float[] logits, ReadOnlySpan<byte> labels, int classes)
    {
        var predicted = TinyVitModel.ArgMax(logits, labels.Length, classes);
        var correct = 0;
        for (var i = 0; i < labels.Length; i++)
            correct += predicted[i] == labels[i] ? 1 : 0;
        return correct;
    }
}
