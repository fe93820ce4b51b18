using System.Text.Json;
using EdgeLam.Contracts.Wire;

namespace EdgeLam.Gateway.Training.Rounds;

/// <summary>
/// Stores <see cref="ModelParameters"/> (de-quantized LoRA factors or full weights) as a tensor bundle of
/// f32 frames, so a stored contribution is exactly what aggregation used and can be replayed by unlearning.
/// </summary>
public static class ModelParametersCodec
{
    private sealed record Header(int AggregatedRounds, Dictionary<string, AdapterShape> Adapters);

    private sealed record AdapterShape(int Rank, int InFeatures, int OutFeatures, float Scale);

    public static byte[] Encode(ModelParameters parameters, int aggregatedRounds = 0)
    {
        var header = new Header(aggregatedRounds, parameters.Adapters.ToDictionary(
            a => a.Key, a => new AdapterShape(a.Value.Rank, a.Value.InFeatures, a.Value.OutFeatures, a.Value.Scale), StringComparer.Ordinal));
        var bundle = new TensorBundle(JsonSerializer.SerializeToUtf8Bytes(header));
        foreach (var (name, factors) in parameters.Adapters.OrderBy(a => a.Key, StringComparer.Ordinal))
        {
            bundle.Add(name + ".A", TensorFrame.FromFloats(factors.A, [factors.Rank, factors.InFeatures]));
            bundle.Add(name + ".B", TensorFrame.FromFloats(factors.B, [factors.OutFeatures, factors.Rank]));
        }

        foreach (var (name, weights) in parameters.FullWeights.OrderBy(w => w.Key, StringComparer.Ordinal))
            bundle.Add("full." + name, TensorFrame.FromFloats(weights, [weights.Length]));
        return TensorBundleCodec.Encode(bundle);
    }

    public static (ModelParameters Parameters, int AggregatedRounds) Decode(byte[] data)
    {
        var bundle = TensorBundleCodec.Decode(data);
        var header = JsonSerializer.Deserialize<Header>(bundle.HeaderJson)
            ?? throw new InvalidDataException("stored model parameters have no header");
        var adapters = new Dictionary<string, LoraFactors>(StringComparer.Ordinal);
        foreach (var (name, shape) in header.Adapters)
        {
            adapters[name] = new LoraFactors(shape.Rank, shape.InFeatures, shape.OutFeatures,
                bundle.GetRequired(name + ".A").Dequantize(), bundle.GetRequired(name + ".B").Dequantize(), shape.Scale);
        }

        var full = new Dictionary<string, float[]>(StringComparer.Ordinal);
        for (var i = 0; i < bundle.Count; i++)
        {
            var name = bundle.GetName(i);
            if (name.StartsWith("full.", StringComparison.Ordinal)) full[name["full.".Length..]] = bundle.GetFrame(i).Dequantize();
        }

        return (new ModelParameters(adapters, full), header.AggregatedRounds);
    }
}
