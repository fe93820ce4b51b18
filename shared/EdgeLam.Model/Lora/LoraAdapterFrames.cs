using EdgeLam.Contracts.Messages;
using EdgeLam.Contracts.Wire;
using EdgeLam.Model.Architecture;

namespace EdgeLam.Model.Lora;

/// <summary>
/// Adapter sets to and from the wire contract's tensor frames. Frames are named by
/// <see cref="LoraFrameName"/> ("layers.{layer}.{projection}.a" [rank, in] and ".b" [out, rank]) in the set's
/// stable order; fp32 is exact, fp16 rounds to nearest even, int8 is symmetric per-channel along axis 0
/// (as <see cref="LoraUpdateHeader"/> states) or asymmetric per-tensor when asked.
/// </summary>
public static class LoraAdapterFrames
{
    /// <summary>One frame per factor, A before B, adapters in the set's order.</summary>
    public static IEnumerable<KeyValuePair<string, TensorFrame>> ToFrames(LoraAdapterSet adapters, Precision precision, bool int8PerTensor = false)
    {
        ArgumentNullException.ThrowIfNull(adapters);
        foreach (LoraAdapter adapter in adapters.Adapters)
        {
            yield return new(LoraFrameName.Of(adapter.Layer, adapter.Projection, isA: true), Encode(adapter.A, [adapter.Rank, adapter.In], precision, int8PerTensor));
            yield return new(LoraFrameName.Of(adapter.Layer, adapter.Projection, isA: false), Encode(adapter.B, [adapter.Out, adapter.Rank], precision, int8PerTensor));
        }
    }

    /// <summary>A bundle with the given JSON header (default: {"rank":r,"alpha":a}) holding every factor.</summary>
    public static TensorBundle ToBundle(LoraAdapterSet adapters, Precision precision, byte[]? headerJson = null, bool int8PerTensor = false)
    {
        ArgumentNullException.ThrowIfNull(adapters);
        headerJson ??= System.Text.Encoding.UTF8.GetBytes(
            FormattableString.Invariant($"{{\"rank\":{adapters.Rank},\"alpha\":{adapters.Alpha}}}"));
        var bundle = new TensorBundle(headerJson);
        foreach ((string name, TensorFrame frame) in ToFrames(adapters, precision, int8PerTensor))
            bundle.Add(name, frame);
        return bundle;
    }

    /// <summary>
    /// Rebuilds an adapter set from LoRA frames: targets and rank come from the names and shapes, values are
    /// dequantized. Every adapter needs both factors with shapes that fit <paramref name="config"/>.
    /// </summary>
    public static LoraAdapterSet FromFrames(TinyVitConfig config, float alpha, IEnumerable<KeyValuePair<string, TensorFrame>> frames)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(frames);
        var factors = new Dictionary<LoraTarget, (TensorFrame? A, TensorFrame? B)>();
        foreach ((string name, TensorFrame frame) in frames)
        {
            if (!LoraFrameName.TryParse(name, out int layer, out string projection, out bool isA))
                throw new ArgumentException($"Frame '{name}' is not a LoRA factor (expected layers.{{layer}}.{{projection}}.a or .b).", nameof(frames));
            if (!LoraProjections.All.Contains(projection))
                throw new ArgumentException($"Frame '{name}' names unknown projection '{projection}'.", nameof(frames));
            if ((uint)layer >= (uint)config.Layers)
                throw new ArgumentException($"Frame '{name}' names layer {layer}; the model has {config.Layers}.", nameof(frames));
            var target = new LoraTarget(layer, projection);
            factors.TryGetValue(target, out var pair);
            if ((isA ? pair.A : pair.B) is not null)
                throw new ArgumentException($"Frame '{name}' appears twice.", nameof(frames));
            factors[target] = isA ? (frame, pair.B) : (pair.A, frame);
        }
        if (factors.Count == 0)
            throw new ArgumentException("No LoRA frames given.", nameof(frames));
        foreach ((LoraTarget target, var pair) in factors)
        {
            if (pair.A is null || pair.B is null)
                throw new ArgumentException($"Adapter layers.{target.Layer}.{target.Projection} lacks its {(pair.A is null ? "a" : "b")} factor.", nameof(frames));
        }

        int rank = factors.Values.First().A!.Shape is [int r, _] ? r : 0;
        var adapters = new LoraAdapterSet(config, rank, alpha, factors.Keys);
        adapters.ImportTensors(factors.Select(entry =>
        {
            LoraAdapter adapter = adapters.Find(entry.Key.Layer, entry.Key.Projection)!;
            return new[]
            {
                (adapter.NameA, entry.Value.A!.Shape, entry.Value.A.Dequantize()),
                (adapter.NameB, entry.Value.B!.Shape, entry.Value.B.Dequantize()),
            };
        }).SelectMany(pair => pair));
        return adapters;
    }

    /// <summary>Rebuilds an adapter set from every frame of a bundle.</summary>
    public static LoraAdapterSet FromBundle(TinyVitConfig config, float alpha, TensorBundle bundle)
    {
        ArgumentNullException.ThrowIfNull(bundle);
        return FromFrames(config, alpha, Enumerable.Range(0, bundle.Count).Select(i => new KeyValuePair<string, TensorFrame>(bundle.GetName(i), bundle.GetFrame(i))));
    }

    private static TensorFrame Encode(float[] values, int[] shape, Precision precision, bool int8PerTensor) => precision switch
    {
        Precision.Fp32 => TensorFrame.FromFloats(values, shape),
        Precision.Fp16 => TensorFrame.FromFloats(values, shape, TensorDataType.Float16),
        Precision.Int8 or Precision.PrunedInt8 => int8PerTensor ? TensorFrame.QuantizePerTensor(values, shape) : TensorFrame.QuantizePerChannel(values, shape, axis: 0),
        _ => throw new ArgumentOutOfRangeException(nameof(precision), precision, "Unknown precision."),
    };
}
