using System.Globalization;
using EdgeLam.Contracts.Wire;

namespace EdgeLam.Contracts.Messages;

/// <summary>Range and format checks shared by the message records' Validate methods; each names the field it checks.</summary>
public static class MessageRules
{
    /// <summary>Most characters of a stage, variant, board, correlation or command id.</summary>
    public const int MaxIdentifierLength = 64;

    /// <summary>Most characters of a free-text error or detail.</summary>
    public const int MaxTextLength = 512;

    /// <summary>Highest layer index a LoRA message may name.</summary>
    public const int MaxLayerIndex = 63;

    /// <summary>Highest LoRA rank of the contract.</summary>
    public const int MaxRank = 64;

    /// <summary>Highest training round number.</summary>
    public const int MaxRound = 1_000_000;

    /// <summary>Requires min &lt;= value &lt;= max.</summary>
    public static void Range(long value, long minimum, long maximum, string field)
    {
        if (value < minimum || value > maximum)
        {
            throw new WireFormatException(WireErrorCode.OutOfRange, field, string.Create(CultureInfo.InvariantCulture, $"{value} outside [{minimum},{maximum}]"));
        }
    }

    /// <summary>Requires a finite value with min &lt;= value &lt;= max.</summary>
    public static void Range(double value, double minimum, double maximum, string field)
    {
        if (!double.IsFinite(value))
        {
            throw new WireFormatException(WireErrorCode.NonFinite, field, "value is NaN or infinite");
        }

        if (value < minimum || value > maximum)
        {
            throw new WireFormatException(WireErrorCode.OutOfRange, field, string.Create(CultureInfo.InvariantCulture, $"{value} outside [{minimum},{maximum}]"));
        }
    }

    /// <summary>Requires a finite value strictly above <paramref name="exclusiveMinimum"/> and at most max.</summary>
    public static void Positive(double value, double exclusiveMinimum, double maximum, string field)
    {
        Range(value, exclusiveMinimum, maximum, field);
        if (value <= exclusiveMinimum)
        {
            throw new WireFormatException(WireErrorCode.OutOfRange, field, string.Create(CultureInfo.InvariantCulture, $"{value} must be above {exclusiveMinimum}"));
        }
    }

    /// <summary>Requires a present string of 1..maxLength characters.</summary>
    public static void Text(string? value, int maximumLength, string field)
    {
        if (value is null)
        {
            throw new WireFormatException(WireErrorCode.MissingField, field, "required field is missing");
        }

        if (value.Length == 0 || value.Length > maximumLength)
        {
            throw new WireFormatException(WireErrorCode.OutOfRange, field, string.Create(CultureInfo.InvariantCulture, $"length {value.Length} outside [1,{maximumLength}]"));
        }
    }

    /// <summary>Optional string: absent is fine, present must be 1..maxLength characters.</summary>
    public static void OptionalText(string? value, int maximumLength, string field)
    {
        if (value is not null)
        {
            Text(value, maximumLength, field);
        }
    }

    /// <summary>Requires 1..64 characters of [A-Za-z0-9._-] (ids of stages, variants, boards, commands, correlations).</summary>
    public static void Identifier(string? value, string field)
    {
        Text(value, MaxIdentifierLength, field);
        foreach (char c in value!)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-'))
            {
                throw new WireFormatException(WireErrorCode.OutOfRange, field, $"character '{c}' not allowed (use [A-Za-z0-9._-])");
            }
        }
    }

    /// <summary>Requires a device id as in topics: 1..64 characters of [A-Za-z0-9_-].</summary>
    public static void DeviceId(string? value, string field)
    {
        Text(value, Topics.MaxDeviceIdLength, field);
        if (!Topics.IsValidDeviceId(value!))
        {
            throw new WireFormatException(WireErrorCode.OutOfRange, field, "device id must be 1..64 characters of [A-Za-z0-9_-]");
        }
    }

    /// <summary>Requires 1..64 distinct, ascending layer indices in [0, MaxLayerIndex].</summary>
    public static void Layers(IReadOnlyList<int>? layers, string field)
    {
        if (layers is null)
        {
            throw new WireFormatException(WireErrorCode.MissingField, field, "required field is missing");
        }

        Range(layers.Count, 1, MaxLayerIndex + 1, field + ".length");
        for (int i = 0; i < layers.Count; i++)
        {
            Range(layers[i], 0, MaxLayerIndex, $"{field}[{i}]");
            if (i > 0 && layers[i] <= layers[i - 1])
            {
                throw new WireFormatException(WireErrorCode.OutOfRange, $"{field}[{i}]", "layers must be distinct and ascending");
            }
        }
    }

    /// <summary>Requires a lowercase hex SHA-256 digest (64 characters).</summary>
    public static void Sha256Hex(string? value, string field)
    {
        Text(value, 64, field);
        if (value!.Length != 64 || !value.All(c => c is (>= '0' and <= '9') or (>= 'a' and <= 'f')))
        {
            throw new WireFormatException(WireErrorCode.OutOfRange, field, "expected 64 lowercase hex digits");
        }
    }

    /// <summary>Requires a declared enum value (System.Text.Json accepts undeclared integers).</summary>
    public static void Defined<TEnum>(TEnum value, string field)
        where TEnum : struct, Enum
    {
        if (!Enum.IsDefined(value))
        {
            throw new WireFormatException(WireErrorCode.UnknownValue, field, $"{value} is not a defined value");
        }
    }

    /// <summary>
    /// Rank and precision of a training exchange: LoRA has rank 1..64 and fp32, fp16 or int8 tensors;
    /// full mode has rank 0 and fp32 or fp16 weights.
    /// </summary>
    public static void TrainingExchange(TrainingScope? mode, int rank, Precision precision, string rankField, string precisionField)
    {
        TrainingScope effective = mode ?? TrainingScope.Lora;
        Defined(effective, "mode");
        Defined(precision, precisionField);
        if (effective == TrainingScope.Full)
        {
            Range(rank, 0, 0, rankField);
            if (precision is not (Precision.Fp32 or Precision.Fp16))
            {
                throw new WireFormatException(WireErrorCode.UnknownValue, precisionField, "full-model weights travel as fp32 or fp16");
            }

            return;
        }

        Range(rank, 1, MaxRank, rankField);
        if (precision == Precision.PrunedInt8)
        {
            throw new WireFormatException(WireErrorCode.UnknownValue, precisionField, "LoRA updates travel as fp32, fp16 or int8");
        }
    }
}
