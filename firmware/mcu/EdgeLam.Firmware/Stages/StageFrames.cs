using EdgeLam.Contracts.Wire;
using EdgeLam.Firmware.Quantization;

namespace EdgeLam.Firmware.Stages;

/// <summary>Reading stage inputs from tensor frames: image count and per-image quantization to the stage's int8 input.</summary>
public static class StageFrames
{
    /// <summary>Images in a frame whose elements are a whole number of per-image inputs.</summary>
    public static int ImageCount(TensorFrame frame, int inputLength, string stageId)
    {
        if (frame == null)
        {
            throw new System.ArgumentNullException(nameof(frame));
        }

        int elements = frame.ElementCount;
        if (elements == 0 || elements % inputLength != 0)
        {
            throw new WireFormatException(WireErrorCode.Inconsistent, "input", "stage " + stageId + " takes " + inputLength.ToString() + " values per image, the frame " + TensorFrame.ShapeText(frame.Shape) + " holds " + elements.ToString());
        }

        if (frame.DataType != TensorDataType.Float32 && frame.DataType != TensorDataType.Float16 && frame.DataType != TensorDataType.Int8)
        {
            throw new WireFormatException(WireErrorCode.UnknownDtype, "input", "stage " + stageId + " takes float32, float16 or int8 input, got " + TensorFrame.DataTypeName(frame.DataType));
        }

        return elements / inputLength;
    }

    /// <summary>Quantizes image number index of the frame into the stage's int8 input (requantizing int8 input of other parameters).</summary>
    public static void QuantizeImage(TensorFrame frame, int index, int inputLength, QuantizationParameters quantization, sbyte[] destination)
    {
        int start = index * inputLength;
        bool same = frame.DataType == TensorDataType.Int8 && frame.Quantization == QuantizationKind.PerTensor
            && frame.Scales[0] == quantization.Scale && frame.ZeroPoints[0] == quantization.ZeroPoint;
        bool integer = frame.DataType == TensorDataType.Int8;
        if (integer && frame.Quantization != QuantizationKind.PerTensor)
        {
            throw new WireFormatException(WireErrorCode.BadQuantization, "input", "int8 stage input must be quantized per tensor");
        }

        for (int i = 0; i < inputLength; i++)
        {
            if (same)
            {
                destination[i] = (sbyte)frame.GetInteger(start + i);
            }
            else
            {
                float value = integer ? frame.Scales[0] * (frame.GetInteger(start + i) - frame.ZeroPoints[0]) : frame.GetFloat(start + i);
                destination[i] = quantization.Quantize(value);
            }
        }
    }
}
