using EdgeLam.Contracts.Messages;
using EdgeLam.Contracts.Wire;
using EdgeLam.Model.Lora;

namespace EdgeLam.Agent.Training;

/// <summary>
/// LoRA factors as contract frames: "layers.{layer}.{projection}.a" (rank x in) and ".b" (out x rank), unscaled
/// (the receiver applies alpha / rank). FP32 and FP16 frames carry floats, INT8 frames are symmetric per-channel
/// along axis 0, as the gateway's adapter writer produces them.
/// </summary>
public static class LoraFrames
{
    /// <summary>The frames of every adapter in <paramref name="adapters"/> at <paramref name="precision"/>.</summary>
    public static List<KeyValuePair<string, TensorFrame>> ToFrames(LoraAdapterSet adapters, Precision precision)
    {
        ArgumentNullException.ThrowIfNull(adapters);
        var frames = new List<KeyValuePair<string, TensorFrame>>();
        foreach (LoraAdapter adapter in adapters.Adapters)
        {
            frames.Add(new(LoraFrameName.Of(adapter.Layer, adapter.Projection, isA: true), ToFrame(adapter.A, [adapter.Rank, adapter.In], precision)));
            frames.Add(new(LoraFrameName.Of(adapter.Layer, adapter.Projection, isA: false), ToFrame(adapter.B, [adapter.Out, adapter.Rank], precision)));
        }

        return frames;
    }

    /// <summary>
    /// The projections of <paramref name="layers"/> whose factors <paramref name="bundle"/> carries: the gateway sends the
    /// start adapter of exactly what it wants adapted, which may be fewer projections than a layer has. Empty without a bundle.
    /// </summary>
    public static IReadOnlyList<LoraTarget> AdaptedIn(TensorBundle? bundle, IReadOnlyCollection<int> layers)
    {
        ArgumentNullException.ThrowIfNull(layers);
        if (bundle is null) return [];
        return [.. layers.Order().SelectMany(layer => LoraProjections.All.Select(projection => new LoraTarget(layer, projection)))
            .Where(t => bundle.Find(LoraFrameName.Of(t.Layer, t.Projection, isA: true)) is not null
                && bundle.Find(LoraFrameName.Of(t.Layer, t.Projection, isA: false)) is not null)];
    }

    /// <summary>
    /// Copies the factors of <paramref name="bundle"/> into the matching adapters of <paramref name="adapters"/>;
    /// returns how many adapters were filled. Frames for layers or projections the set does not adapt are skipped.
    /// </summary>
    public static int Import(TensorBundle bundle, LoraAdapterSet adapters)
    {
        ArgumentNullException.ThrowIfNull(bundle);
        ArgumentNullException.ThrowIfNull(adapters);
        int filled = 0;
        foreach (LoraAdapter adapter in adapters.Adapters)
        {
            TensorFrame? a = bundle.Find(LoraFrameName.Of(adapter.Layer, adapter.Projection, isA: true));
            TensorFrame? b = bundle.Find(LoraFrameName.Of(adapter.Layer, adapter.Projection, isA: false));
            if (a is null || b is null) continue;
            Require(a, [adapter.Rank, adapter.In], adapter.NameA);
            Require(b, [adapter.Out, adapter.Rank], adapter.NameB);
            a.Dequantize().CopyTo(adapter.A, 0);
            b.Dequantize().CopyTo(adapter.B, 0);
            filled++;
        }

        return filled;
    }

    private static void Require(TensorFrame frame, int[] shape, string name)
    {
        if (!frame.Shape.AsSpan().SequenceEqual(shape))
            throw new WireFormatException(WireErrorCode.Inconsistent, name, $"shape {TensorFrame.ShapeText(frame.Shape)}, expected {TensorFrame.ShapeText(shape)}");
    }

    private static TensorFrame ToFrame(float[] values, int[] shape, Precision precision) => precision switch
    {
        Precision.Fp32 => TensorFrame.FromFloats(values, shape, TensorDataType.Float32),
        Precision.Fp16 => TensorFrame.FromFloats(values, shape, TensorDataType.Float16),
        Precision.Int8 => TensorFrame.QuantizePerChannel(values, shape, 0),
        _ => throw new ArgumentException($"LoRA factors travel as fp32, fp16 or int8, not {WireMessages.EnumName(precision)}.", nameof(precision)),
    };
}
