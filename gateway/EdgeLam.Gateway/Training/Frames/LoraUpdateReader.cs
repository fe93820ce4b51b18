using EdgeLam.Contracts.Messages;
using EdgeLam.Contracts.Wire;

namespace EdgeLam.Gateway.Training.Frames;

/// <summary>
/// Turns a device's LoRA update bundle (edgelam/v1/devices/{id}/update) into a <see cref="TrainingReply"/>:
/// frames "layers.{layer}.{projection}.a|b" become factors of "blocks.{layer}.{projection}", de-quantized
/// to float (FP16 widened exactly, INT8 as scale·(q − zeroPoint)), with the device's scale alpha/rank.
/// The aggregation math never sees frames.
/// </summary>
public static class LoraUpdateReader
{
    /// <summary>
    /// Decodes <paramref name="payload"/>; a malformed, stale or inconsistent update becomes a failure with the
    /// wire error's message instead of an exception, so one bad device cannot stop the round.
    /// </summary>
    public static bool TryRead(
        string deviceId, byte[] payload, int expectedRound, float loraAlpha,
        out TrainingReply? reply, out TrainingFailure? failure)
    {
        ArgumentNullException.ThrowIfNull(payload);
        try
        {
            reply = ToReply(deviceId, MessageBundle<LoraUpdateHeader>.Decode(payload), expectedRound, loraAlpha, payload.LongLength);
            failure = null;
            return true;
        }
        catch (WireFormatException error)
        {
            reply = null;
            failure = new TrainingFailure(deviceId, $"Update rejected on decoding: {error.Message}");
            return false;
        }
    }

    /// <summary>The reply carried by a decoded update bundle; throws <see cref="WireFormatException"/> naming what is wrong.</summary>
    public static TrainingReply ToReply(string deviceId, MessageBundle<LoraUpdateHeader> update, int expectedRound, float loraAlpha, long uplinkBytes)
    {
        ArgumentNullException.ThrowIfNull(update);
        var header = update.Header;
        if (header.Round != expectedRound)
            throw new WireFormatException(WireErrorCode.Inconsistent, "round", $"update answers round {header.Round}, the gateway is aggregating round {expectedRound}");
        if (!(loraAlpha > 0) || !float.IsFinite(loraAlpha))
            throw new ArgumentOutOfRangeException(nameof(loraAlpha), loraAlpha, "LoRA alpha must be positive and finite.");
        if (header.ModeOrDefault() == TrainingScope.Full)
            return FullWeightReply(deviceId, update, uplinkBytes);

        var expectedType = FrameTypeOf(header.Precision);
        var halves = new Dictionary<string, (TensorFrame? A, TensorFrame? B)>(StringComparer.Ordinal);
        var bundle = update.Bundle;
        for (var i = 0; i < bundle.Count; i++)
        {
            var name = bundle.GetName(i);
            var frame = bundle.GetFrame(i);
            if (!LoraFrameName.TryParse(name, out var layer, out var kind, out var isA) || !ProjectionNames.Kinds.Contains(kind))
                throw new WireFormatException(WireErrorCode.BadName, name, $"not a LoRA factor of one of the projections {string.Join(", ", ProjectionNames.Kinds)}");
            if (frame.DataType != expectedType)
                throw new WireFormatException(WireErrorCode.Inconsistent, name,
                    $"frame is {TensorFrame.DataTypeName(frame.DataType)}, the header's precision {WireMessages.EnumName(header.Precision)} needs {TensorFrame.DataTypeName(expectedType)}");
            var projection = ProjectionNames.Of(layer, kind);
            halves.TryGetValue(projection, out var pair);
            halves[projection] = isA ? pair with { A = frame } : pair with { B = frame };
        }

        var adapters = new Dictionary<string, LoraFactors>(StringComparer.Ordinal);
        foreach (var (projection, (a, b)) in halves)
        {
            if (a is null || b is null)
                throw new WireFormatException(WireErrorCode.MissingField, projection, $"has only its {(a is null ? "b" : "a")} factor; A and B travel together");
            // MessageBundle checked the rank axes; A is [rank, in] and B is [out, rank].
            adapters[projection] = new LoraFactors(header.Rank, a.Shape[1], b.Shape[0], a.Dequantize(), b.Dequantize(), loraAlpha / header.Rank);
        }
        return new TrainingReply(deviceId, header.SampleCount, ModelParameters.FromAdapters(adapters), uplinkBytes);
    }

    /// <summary>Frames "weights.{tensor}" (FP32, or FP16 widened exactly) become the reply's full weights.</summary>
    private static TrainingReply FullWeightReply(string deviceId, MessageBundle<LoraUpdateHeader> update, long uplinkBytes)
    {
        var weights = new Dictionary<string, float[]>(StringComparer.Ordinal);
        var bundle = update.Bundle;
        for (var i = 0; i < bundle.Count; i++)
        {
            // MessageBundle checked that every frame has the header's float type.
            if (!FullWeightFrameName.TryParse(bundle.GetName(i), out var tensor))
                throw new WireFormatException(WireErrorCode.BadName, bundle.GetName(i), "full-model frames are named weights.{tensor}");
            weights[tensor] = bundle.GetFrame(i).Dequantize();
        }
        return new TrainingReply(deviceId, update.Header.SampleCount, ModelParameters.FromFullWeights(weights), uplinkBytes);
    }

    internal static TensorDataType FrameTypeOf(Precision precision) => precision switch
    {
        Precision.Fp32 => TensorDataType.Float32,
        Precision.Fp16 => TensorDataType.Float16,
        Precision.Int8 => TensorDataType.Int8,
        _ => throw new WireFormatException(WireErrorCode.UnknownValue, "precision", "LoRA factors travel as fp32, fp16 or int8"),
    };
}

/// <summary>
/// Builds the adapter bundle a device receives (edgelam/v1/devices/{id}/adapter): the factors of its
/// projections at its rank, FP32/FP16 as floats or INT8 symmetric per-channel along axis 0 (DESIGN.md).
/// The device applies its own scale alpha/rank, so the factors travel unscaled.
/// </summary>
public static class AdapterBundleWriter
{
    public static MessageBundle<AdapterHeader> Write(
        IReadOnlyDictionary<string, LoraFactors> adapters, int round, Precision precision, string baseModelId)
    {
        ArgumentNullException.ThrowIfNull(adapters);
        if (adapters.Count == 0)
            throw new ArgumentException("An adapter bundle carries at least one projection.", nameof(adapters));
        var rank = adapters.Values.First().Rank;
        var frames = new List<KeyValuePair<string, TensorFrame>>();
        var layers = new SortedSet<int>();
        foreach (var (projection, factors) in adapters.OrderBy(a => a.Key, StringComparer.Ordinal))
        {
            if (!ProjectionNames.TryParse(projection, out var layer, out var kind))
                throw new ArgumentException($"{projection} is not named blocks.{{layer}}.{{{string.Join("|", ProjectionNames.Kinds)}}}.", nameof(adapters));
            if (factors.Rank != rank)
                throw new ArgumentException($"{projection} has rank {factors.Rank}, the bundle's rank is {rank}; one bundle carries one rank.", nameof(adapters));
            factors.Validate(projection);
            layers.Add(layer);
            frames.Add(new(LoraFrameName.Of(layer, kind, isA: true), ToFrame(factors.A, [rank, factors.InFeatures], precision)));
            frames.Add(new(LoraFrameName.Of(layer, kind, isA: false), ToFrame(factors.B, [factors.OutFeatures, rank], precision)));
        }
        var header = new AdapterHeader { Round = round, Rank = rank, Layers = layers.ToArray(), Precision = precision, BaseModelId = baseModelId };
        header.Validate();
        return MessageBundle<AdapterHeader>.Create(header, frames);
    }

    /// <summary>
    /// The global model's weights as a full-mode adapter bundle: frames "weights.{tensor}" in FP32 or FP16, each
    /// with the model's shape for the tensor (flat when the layout does not know it).
    /// </summary>
    public static MessageBundle<AdapterHeader> WriteFullWeights(
        IReadOnlyDictionary<string, float[]> weights, AdapterLayout layout, int round, Precision precision, string baseModelId)
    {
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(layout);
        if (weights.Count == 0)
            throw new ArgumentException("A full-weight bundle carries at least one tensor.", nameof(weights));
        if (precision is not (Precision.Fp32 or Precision.Fp16))
            throw new ArgumentException($"Full-model weights travel as fp32 or fp16, not {WireMessages.EnumName(precision)}.", nameof(precision));
        var frames = weights.OrderBy(w => w.Key, StringComparer.Ordinal).Select(w => new KeyValuePair<string, TensorFrame>(
            FullWeightFrameName.Of(w.Key),
            TensorFrame.FromFloats(w.Value, layout.WeightShapes.TryGetValue(w.Key, out var shape) ? shape : [w.Value.Length], LoraUpdateReader.FrameTypeOf(precision))));
        var header = new AdapterHeader { Mode = TrainingScope.Full, Round = round, Rank = 0, Layers = layout.Layers.ToArray(), Precision = precision, BaseModelId = baseModelId };
        header.Validate();
        return MessageBundle<AdapterHeader>.Create(header, frames);
    }

    private static TensorFrame ToFrame(float[] values, int[] shape, Precision precision) =>
        LoraUpdateReader.FrameTypeOf(precision) switch
        {
            TensorDataType.Int8 => TensorFrame.QuantizePerChannel(values, shape, 0),
            var floatType => TensorFrame.FromFloats(values, shape, floatType),
        };
}
