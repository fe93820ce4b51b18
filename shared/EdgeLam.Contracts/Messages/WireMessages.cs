using System.Reflection;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using EdgeLam.Contracts.Wire;
using EdgeLam.Contracts.Wire.Json;

namespace EdgeLam.Contracts.Messages;

/// <summary>
/// Encodes and decodes the JSON control messages (WIRE.md, "Messages"). Decoding is strict and reports the first
/// defect as a <see cref="WireFormatException"/> that names the field: syntax (the portable <see cref="JsonReader"/>,
/// so every side reports the same codes), then presence and JSON type of each member, then the record's own
/// ranges and cross-field rules. Unknown members are ignored so that a newer sender can add optional fields.
/// </summary>
public static class WireMessages
{
    private static readonly WireJsonContext Context = new(new JsonSerializerOptions
    {
        // MQTT payloads are not HTML: keep non-ASCII and '+', '<', '&' readable, as the portable JsonWriter does.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Converters = { new JsonStringEnumConverter(namingPolicy: null, allowIntegerValues: false) },
    });

    /// <summary>Serializer options of the contract, for callers that embed messages elsewhere.</summary>
    public static JsonSerializerOptions Options => Context.Options;

    /// <summary>Decodes and validates a message of type <typeparamref name="TMessage"/> from UTF-8 JSON.</summary>
    public static TMessage Decode<TMessage>(byte[] utf8)
        where TMessage : class, IWireMessage
    {
        ArgumentNullException.ThrowIfNull(utf8);
        JsonTypeInfo<TMessage> typeInfo = TypeInfo<TMessage>();

        // Syntax, limits, duplicate members and non-finite numbers: the same checks the firmware runs.
        JsonReader.ParseObject(utf8, 0, utf8.Length);
        using (JsonDocument document = JsonDocument.Parse(utf8))
        {
            CheckShape(document.RootElement, typeInfo, string.Empty);
        }

        TMessage? message;
        try
        {
            message = JsonSerializer.Deserialize(utf8, typeInfo);
        }
        catch (JsonException exception)
        {
            throw new WireFormatException(WireErrorCode.WrongType, FieldOf(exception.Path), exception.Message);
        }

        if (message is null)
        {
            throw new WireFormatException(WireErrorCode.MalformedJson, "json", "document is null, not an object");
        }

        message.Validate();
        return message;
    }

    /// <summary>Validates and encodes a message as compact UTF-8 JSON; decoding the result gives an equal message.</summary>
    public static byte[] Encode<TMessage>(TMessage message)
        where TMessage : class, IWireMessage
    {
        ArgumentNullException.ThrowIfNull(message);
        message.Validate();
        return JsonSerializer.SerializeToUtf8Bytes(message, TypeInfo<TMessage>());
    }

    /// <summary>The wire name of an enum value (its JsonStringEnumMemberName).</summary>
    public static string EnumName<TEnum>(TEnum value)
        where TEnum : struct, Enum
    {
        string name = value.ToString();
        FieldInfo? field = typeof(TEnum).GetField(name, BindingFlags.Public | BindingFlags.Static);
        return field?.GetCustomAttribute<JsonStringEnumMemberNameAttribute>()?.Name ?? name;
    }

    /// <summary>Metadata of a message type.</summary>
    public static JsonTypeInfo<TMessage> TypeInfo<TMessage>()
        where TMessage : class, IWireMessage
    {
        return (JsonTypeInfo<TMessage>)(Context.GetTypeInfo(typeof(TMessage))
            ?? throw new InvalidOperationException($"{typeof(TMessage).Name} is not a message of WireJsonContext"));
    }

    private static void CheckShape(JsonElement element, JsonTypeInfo typeInfo, string path)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            throw new WireFormatException(WireErrorCode.WrongType, path.Length == 0 ? "json" : path, $"expected object, found {KindName(element.ValueKind)}");
        }

        foreach (JsonPropertyInfo property in typeInfo.Properties)
        {
            string field = JsonValue.MemberPath(path, property.Name);
            if (!element.TryGetProperty(property.Name, out JsonElement value) || value.ValueKind == JsonValueKind.Null)
            {
                if (property.IsRequired)
                {
                    throw new WireFormatException(WireErrorCode.MissingField, field, "required field is missing");
                }

                continue;
            }

            CheckValue(value, property.PropertyType, field);
        }
    }

    private static void CheckValue(JsonElement value, Type declaredType, string field)
    {
        Type type = Nullable.GetUnderlyingType(declaredType) ?? declaredType;
        if (type == typeof(string))
        {
            RequireKind(value, JsonValueKind.String, "string", field);
        }
        else if (type == typeof(bool))
        {
            if (value.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
            {
                throw new WireFormatException(WireErrorCode.WrongType, field, $"expected boolean, found {KindName(value.ValueKind)}");
            }
        }
        else if (type == typeof(int) || type == typeof(long))
        {
            RequireKind(value, JsonValueKind.Number, "integer", field);
            string literal = value.GetRawText();
            if (literal.Contains('.', StringComparison.Ordinal) || literal.Contains('e', StringComparison.OrdinalIgnoreCase))
            {
                throw new WireFormatException(WireErrorCode.WrongType, field, $"expected integer, found {literal}");
            }

            bool fits = type == typeof(int) ? value.TryGetInt32(out _) : value.TryGetInt64(out _);
            if (!fits)
            {
                throw new WireFormatException(WireErrorCode.OutOfRange, field, $"{literal} does not fit a {(type == typeof(int) ? "32" : "64")}-bit integer");
            }
        }
        else if (type == typeof(double))
        {
            RequireKind(value, JsonValueKind.Number, "number", field);
            if (!value.TryGetDouble(out double number) || !double.IsFinite(number))
            {
                throw new WireFormatException(WireErrorCode.NonFinite, field, $"{value.GetRawText()} is outside the range of a double");
            }
        }
        else if (type.IsEnum)
        {
            RequireKind(value, JsonValueKind.String, "string", field);
            string text = value.GetString()!;
            if (!EnumNames(type).Contains(text))
            {
                throw new WireFormatException(WireErrorCode.UnknownValue, field, $"\"{text}\" is not one of {string.Join(", ", EnumNames(type))}");
            }
        }
        else if (type.IsArray || (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(IReadOnlyList<>)))
        {
            RequireKind(value, JsonValueKind.Array, "array", field);
            Type elementType = type.IsArray ? type.GetElementType()! : type.GetGenericArguments()[0];
            int index = 0;
            foreach (JsonElement item in value.EnumerateArray())
            {
                CheckValue(item, elementType, JsonValue.ElementPath(field, index++));
            }
        }
        else
        {
            CheckShape(value, Context.GetTypeInfo(type) ?? throw new InvalidOperationException($"{type.Name} has no JSON metadata"), field);
        }
    }

    private static void RequireKind(JsonElement value, JsonValueKind kind, string expected, string field)
    {
        if (value.ValueKind != kind)
        {
            throw new WireFormatException(WireErrorCode.WrongType, field, $"expected {expected}, found {KindName(value.ValueKind)}");
        }
    }

    private static string[] EnumNames(Type enumType)
    {
        return enumType.GetFields(BindingFlags.Public | BindingFlags.Static)
            .Select(field => field.GetCustomAttribute<JsonStringEnumMemberNameAttribute>()?.Name ?? field.Name)
            .ToArray();
    }

    private static string KindName(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Object => "object",
        JsonValueKind.Array => "array",
        JsonValueKind.String => "string",
        JsonValueKind.Number => "number",
        JsonValueKind.True or JsonValueKind.False => "boolean",
        _ => "null",
    };

    private static string FieldOf(string? jsonPath)
    {
        // System.Text.Json paths look like "$.layers[2]"; the contract names fields without the "$.".
        if (string.IsNullOrEmpty(jsonPath) || jsonPath == "$")
        {
            return "json";
        }

        return jsonPath.StartsWith("$.", StringComparison.Ordinal) ? jsonPath[2..] : jsonPath;
    }
}
