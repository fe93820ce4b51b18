using System.Globalization;
using System.Text.Json;

namespace EdgeLam.Cli.Tests;

/// <summary>
/// The part of JSON Schema 2020-12 (https://json-schema.org/draft/2020-12/json-schema-validation) that the
/// repository's schemas use: type, const, enum, required, properties, additionalProperties, propertyNames,
/// minProperties, items, minItems, minLength, minimum, maximum, exclusiveMinimum, allOf and local $ref.
/// A keyword it does not know is an error, so a schema cannot silently check less than it says.
/// </summary>
public sealed class JsonSchemaValidator
{
    private static readonly HashSet<string> Known =
    [
        "$schema", "$id", "$defs", "title", "description", "type", "const", "enum", "required", "properties", "additionalProperties",
        "propertyNames", "minProperties", "items", "minItems", "minLength", "minimum", "maximum", "exclusiveMinimum", "allOf", "$ref",
    ];

    private readonly JsonElement _root;

    public JsonSchemaValidator(JsonElement schema) => _root = schema;

    /// <summary>Every violation as "path: what is wrong"; empty when the instance is valid.</summary>
    public IReadOnlyList<string> Validate(JsonElement instance)
    {
        var errors = new List<string>();
        Check(_root, instance, "$", errors);
        return errors;
    }

    private void Check(JsonElement schema, JsonElement value, string path, List<string> errors)
    {
        foreach (var keyword in schema.EnumerateObject())
        {
            if (!Known.Contains(keyword.Name))
                throw new NotSupportedException($"Schema keyword '{keyword.Name}' at {path} is not supported by this validator.");
        }

        if (schema.TryGetProperty("$ref", out var reference))
            Check(Resolve(reference.GetString()!), value, path, errors);
        if (schema.TryGetProperty("allOf", out var allOf))
            foreach (var part in allOf.EnumerateArray()) Check(part, value, path, errors);
        if (schema.TryGetProperty("type", out var type) && !HasType(value, type.GetString()!))
        {
            errors.Add($"{path}: expected {type.GetString()}, found {value.ValueKind}");
            return;
        }
        if (schema.TryGetProperty("const", out var constant) && !JsonElement.DeepEquals(constant, value))
            errors.Add($"{path}: expected {constant.GetRawText()}, found {value.GetRawText()}");
        if (schema.TryGetProperty("enum", out var options) && !options.EnumerateArray().Any(o => JsonElement.DeepEquals(o, value)))
            errors.Add($"{path}: {value.GetRawText()} is not one of {options.GetRawText()}");

        if (value.ValueKind == JsonValueKind.Number)
        {
            var number = value.GetDouble();
            if (schema.TryGetProperty("minimum", out var minimum) && number < minimum.GetDouble())
                errors.Add(string.Create(CultureInfo.InvariantCulture, $"{path}: {number} is below the minimum {minimum.GetDouble()}"));
            if (schema.TryGetProperty("maximum", out var maximum) && number > maximum.GetDouble())
                errors.Add(string.Create(CultureInfo.InvariantCulture, $"{path}: {number} is above the maximum {maximum.GetDouble()}"));
            if (schema.TryGetProperty("exclusiveMinimum", out var exclusive) && number <= exclusive.GetDouble())
                errors.Add(string.Create(CultureInfo.InvariantCulture, $"{path}: {number} must be above {exclusive.GetDouble()}"));
        }
        if (value.ValueKind == JsonValueKind.String && schema.TryGetProperty("minLength", out var minLength) && value.GetString()!.Length < minLength.GetInt32())
            errors.Add($"{path}: string shorter than {minLength.GetInt32()}");
        if (value.ValueKind == JsonValueKind.Array)
        {
            if (schema.TryGetProperty("minItems", out var minItems) && value.GetArrayLength() < minItems.GetInt32())
                errors.Add($"{path}: {value.GetArrayLength()} items, at least {minItems.GetInt32()} required");
            if (schema.TryGetProperty("items", out var items))
            {
                var index = 0;
                foreach (var item in value.EnumerateArray()) Check(items, item, $"{path}[{index++}]", errors);
            }
        }
        if (value.ValueKind == JsonValueKind.Object)
            CheckObject(schema, value, path, errors);
    }

    private void CheckObject(JsonElement schema, JsonElement value, string path, List<string> errors)
    {
        var members = value.EnumerateObject().ToArray();
        if (schema.TryGetProperty("required", out var required))
            foreach (var name in required.EnumerateArray().Select(r => r.GetString()!).Where(name => !value.TryGetProperty(name, out _)))
                errors.Add($"{path}: missing required '{name}'");
        if (schema.TryGetProperty("minProperties", out var minProperties) && members.Length < minProperties.GetInt32())
            errors.Add($"{path}: {members.Length} properties, at least {minProperties.GetInt32()} required");
        var declared = schema.TryGetProperty("properties", out var properties) ? properties : default;
        foreach (var member in members)
        {
            var memberPath = $"{path}.{member.Name}";
            if (schema.TryGetProperty("propertyNames", out var names))
                Check(names, JsonDocument.Parse(JsonSerializer.Serialize(member.Name)).RootElement, memberPath + " (name)", errors);
            if (declared.ValueKind == JsonValueKind.Object && declared.TryGetProperty(member.Name, out var memberSchema))
                Check(memberSchema, member.Value, memberPath, errors);
            else if (schema.TryGetProperty("additionalProperties", out var additional))
            {
                if (additional.ValueKind == JsonValueKind.False)
                    errors.Add($"{memberPath}: not allowed");
                else if (additional.ValueKind == JsonValueKind.Object)
                    Check(additional, member.Value, memberPath, errors);
            }
        }
    }

    private JsonElement Resolve(string reference)
    {
        const string Prefix = "#/$defs/";
        if (!reference.StartsWith(Prefix, StringComparison.Ordinal) || !_root.GetProperty("$defs").TryGetProperty(reference[Prefix.Length..], out var target))
            throw new NotSupportedException($"Only local references to #/$defs/ are supported, not '{reference}'.");
        return target;
    }

    private static bool HasType(JsonElement value, string type) => type switch
    {
        "object" => value.ValueKind == JsonValueKind.Object,
        "array" => value.ValueKind == JsonValueKind.Array,
        "string" => value.ValueKind == JsonValueKind.String,
        "boolean" => value.ValueKind is JsonValueKind.True or JsonValueKind.False,
        "number" => value.ValueKind == JsonValueKind.Number,
        "integer" => value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out _),
        "null" => value.ValueKind == JsonValueKind.Null,
        _ => throw new NotSupportedException($"Unknown schema type '{type}'."),
    };
}
