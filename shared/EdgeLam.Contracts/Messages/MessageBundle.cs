using EdgeLam.Contracts.Wire;

namespace EdgeLam.Contracts.Messages;

/// <summary>
/// A tensor bundle whose JSON header is a validated control message: LoRA updates (<see cref="LoraUpdateHeader"/>),
/// global adapters (<see cref="AdapterHeader"/>), inference requests and results.
/// </summary>
/// <typeparam name="THeader">Type of the header message.</typeparam>
/// <param name="Header">The decoded header.</param>
/// <param name="Bundle">The bundle with its frames.</param>
public sealed record MessageBundle<THeader>(THeader Header, TensorBundle Bundle)
    where THeader : class, IWireMessage
{
    /// <summary>Builds a bundle from a header and named frames (in the given order).</summary>
    public static MessageBundle<THeader> Create(THeader header, IEnumerable<KeyValuePair<string, TensorFrame>> frames)
    {
        ArgumentNullException.ThrowIfNull(frames);
        var bundle = new TensorBundle(WireMessages.Encode(header));
        foreach ((string name, TensorFrame frame) in frames)
        {
            bundle.Add(name, frame);
        }

        var result = new MessageBundle<THeader>(header, bundle);
        result.ValidateFrames();
        return result;
    }

    /// <summary>Decodes a bundle and its header; any defect is a <see cref="WireFormatException"/>.</summary>
    public static MessageBundle<THeader> Decode(byte[] data)
    {
        TensorBundle bundle = TensorBundleCodec.Decode(data);
        THeader header = WireMessages.Decode<THeader>(bundle.HeaderJson);
        var result = new MessageBundle<THeader>(header, bundle);
        result.ValidateFrames();
        return result;
    }

    /// <summary>The bundle's bytes.</summary>
    public byte[] Encode() => TensorBundleCodec.Encode(Bundle);

    /// <summary>Cross-checks frames against the header where the contract says which frames must be present.</summary>
    private void ValidateFrames()
    {
        switch (Header)
        {
            case InferenceRequestHeader:
                Bundle.GetRequired(InferenceRequestHeader.InputFrameName);
                break;
            case InferenceResultHeader result:
                bool hasOutput = Bundle.Find(InferenceResultHeader.OutputFrameName) is not null;
                if (hasOutput != (result.Outcome == InferenceOutcome.Ok))
                {
                    throw new WireFormatException(WireErrorCode.Inconsistent, InferenceResultHeader.OutputFrameName, "an output frame is present exactly when the outcome is ok");
                }

                break;
            case LoraUpdateHeader update when update.ModeOrDefault() == TrainingScope.Full:
                CheckFullWeightFrames(update.Precision);
                break;
            case LoraUpdateHeader update:
                CheckLoraFrames(update.Layers, update.Rank);
                break;
            case AdapterHeader adapter when adapter.ModeOrDefault() == TrainingScope.Full:
                CheckFullWeightFrames(adapter.Precision);
                break;
            case AdapterHeader adapter:
                CheckLoraFrames(adapter.Layers, adapter.Rank);
                break;
        }
    }

    private void CheckFullWeightFrames(Precision precision)
    {
        if (Bundle.Count == 0)
        {
            throw new WireFormatException(WireErrorCode.MissingField, "frames", "a full-model bundle carries at least one weight tensor");
        }

        TensorDataType expected = precision == Precision.Fp16 ? TensorDataType.Float16 : TensorDataType.Float32;
        for (int i = 0; i < Bundle.Count; i++)
        {
            string name = Bundle.GetName(i);
            if (!FullWeightFrameName.TryParse(name, out _))
            {
                throw new WireFormatException(WireErrorCode.BadName, name, "full-model frames are named weights.{tensor}");
            }

            if (Bundle.GetFrame(i).DataType != expected)
            {
                throw new WireFormatException(WireErrorCode.Inconsistent, name,
                    $"frame is {TensorFrame.DataTypeName(Bundle.GetFrame(i).DataType)}, the header's precision {WireMessages.EnumName(precision)} needs {TensorFrame.DataTypeName(expected)}");
            }
        }
    }

    private void CheckLoraFrames(IReadOnlyList<int> layers, int rank)
    {
        if (Bundle.Count == 0)
        {
            throw new WireFormatException(WireErrorCode.MissingField, "frames", "a LoRA bundle carries at least one factor");
        }

        for (int i = 0; i < Bundle.Count; i++)
        {
            string name = Bundle.GetName(i);
            if (!LoraFrameName.TryParse(name, out int layer, out _, out bool isA))
            {
                throw new WireFormatException(WireErrorCode.BadName, name, "LoRA frames are named layers.{layer}.{projection}.a or .b");
            }

            if (!layers.Contains(layer))
            {
                throw new WireFormatException(WireErrorCode.Inconsistent, name, $"layer {layer} is not in the header's layers");
            }

            TensorFrame frame = Bundle.GetFrame(i);
            int rankDimension = isA ? 0 : 1;
            if (frame.Shape.Length != 2 || frame.Shape[rankDimension] != rank)
            {
                throw new WireFormatException(WireErrorCode.Inconsistent, name, $"shape {TensorFrame.ShapeText(frame.Shape)} does not have rank {rank} on axis {rankDimension}");
            }
        }
    }
}

/// <summary>Names of LoRA factor frames: "layers.{layer}.{projection}.a" (rank x in) and ".b" (out x rank).</summary>
public static class LoraFrameName
{
    /// <summary>The frame name of a factor.</summary>
    public static string Of(int layer, string projection, bool isA)
    {
        return $"layers.{layer.ToString(System.Globalization.CultureInfo.InvariantCulture)}.{projection}.{(isA ? "a" : "b")}";
    }

    /// <summary>Splits a factor name; false when it does not follow the pattern.</summary>
    public static bool TryParse(string name, out int layer, out string projection, out bool isA)
    {
        layer = 0;
        projection = string.Empty;
        isA = false;
        string[] parts = name.Split('.');
        if (parts.Length != 4 || parts[0] != "layers" || parts[3] is not ("a" or "b") || parts[2].Length == 0
            || !int.TryParse(parts[1], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out layer))
        {
            return false;
        }

        projection = parts[2];
        isA = parts[3] == "a";
        return true;
    }
}

/// <summary>Names of full-model weight frames: "weights.{tensor}", the tensor named as the model names it (e.g. "blocks.0.q.weight").</summary>
public static class FullWeightFrameName
{
    /// <summary>Prefix of every full-model weight frame.</summary>
    public const string Prefix = "weights.";

    /// <summary>The frame name of a model tensor.</summary>
    public static string Of(string tensor) => Prefix + tensor;

    /// <summary>The tensor name of a frame; false when the name does not follow the pattern.</summary>
    public static bool TryParse(string name, out string tensor)
    {
        tensor = string.Empty;
        if (name is null || !name.StartsWith(Prefix, StringComparison.Ordinal) || name.Length == Prefix.Length)
        {
            return false;
        }

        tensor = name[Prefix.Length..];
        return true;
    }
}
