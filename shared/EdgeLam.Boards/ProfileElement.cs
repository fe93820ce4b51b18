using System.Text.Json;

namespace EdgeLam.Boards;

/// <summary>A JSON element together with its path, so every validation error can name the exact field.</summary>
internal readonly record struct ProfileElement(JsonElement Element, string Path, string FileName)
{
    public BoardProfileException Fail(string problem) => new(FileName, Path, problem);

    /// <summary>Checks this is an object holding every required property and nothing unknown.</summary>
    public ProfileElement ExpectObject(IReadOnlyList<string> required, params string[] optional)
    {
        if (Element.ValueKind != JsonValueKind.Object)
            throw Fail($"must be an object (found {Describe(Element)})");
        foreach (var name in required)
        {
            if (!Element.TryGetProperty(name, out _))
                throw new BoardProfileException(FileName, $"{Path}.{name}", "is missing");
        }
        foreach (var property in Element.EnumerateObject())
        {
            if (!required.Contains(property.Name) && !optional.Contains(property.Name))
            {
                throw new BoardProfileException(FileName, $"{Path}.{property.Name}",
                    $"is not a known property (expected {string.Join(", ", required.Concat(optional))})");
            }
        }
        return this;
    }

    /// <summary>The properties of an object whose names are data (such as precisions), not a fixed set.</summary>
    public IReadOnlyList<(string Name, ProfileElement Value)> Properties()
    {
        if (Element.ValueKind != JsonValueKind.Object)
            throw Fail($"must be an object (found {Describe(Element)})");
        var path = Path;
        var fileName = FileName;
        return Element.EnumerateObject()
            .Select(property => (property.Name, new ProfileElement(property.Value, $"{path}.{property.Name}", fileName)))
            .ToArray();
    }

    public ProfileElement this[string name] =>
        Element.TryGetProperty(name, out var child)
            ? new ProfileElement(child, $"{Path}.{name}", FileName)
            : throw new BoardProfileException(FileName, $"{Path}.{name}", "is missing");

    public ProfileElement? Optional(string name) =>
        Element.TryGetProperty(name, out var child) ? new ProfileElement(child, $"{Path}.{name}", FileName) : null;

    public string NonEmptyString()
    {
        if (Element.ValueKind != JsonValueKind.String)
            throw Fail($"must be a string (found {Describe(Element)})");
        var text = Element.GetString()!;
        return string.IsNullOrWhiteSpace(text) ? throw Fail("must not be empty") : text;
    }

    /// <summary>Reads a string that must be one of the given spellings and maps it to its value.</summary>
    public T OneOf<T>(IReadOnlyDictionary<string, T> spellings)
    {
        var allowed = string.Join(", ", spellings.Keys);
        if (Element.ValueKind != JsonValueKind.String)
            throw Fail($"must be one of {allowed} (found {Describe(Element)})");
        var text = Element.GetString()!;
        return spellings.TryGetValue(text, out var value) ? value : throw Fail($"must be one of {allowed} (found '{text}')");
    }

    public long Integer(long minimum)
    {
        if (Element.ValueKind != JsonValueKind.Number || !Element.TryGetInt64(out var value))
            throw Fail($"must be an integer (found {Describe(Element)})");
        return value < minimum ? throw Fail($"must be at least {minimum} (found {value})") : value;
    }

    public double PositiveNumber()
    {
        if (Element.ValueKind != JsonValueKind.Number)
            throw Fail($"must be a number (found {Describe(Element)})");
        var value = Element.GetDouble();
        return value > 0 && double.IsFinite(value) ? value : throw Fail($"must be greater than 0 (found {value})");
    }

    public bool Boolean() =>
        Element.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw Fail($"must be true or false (found {Describe(Element)})"),
        };

    public IReadOnlyList<ProfileElement> NonEmptyArray()
    {
        if (Element.ValueKind != JsonValueKind.Array)
            throw Fail($"must be an array (found {Describe(Element)})");
        var path = Path;
        var fileName = FileName;
        var items = Element.EnumerateArray().Select((item, index) => new ProfileElement(item, $"{path}[{index}]", fileName)).ToArray();
        return items.Length == 0 ? throw Fail("must not be empty") : items;
    }

    private static string Describe(JsonElement element) =>
        element.ValueKind switch
        {
            JsonValueKind.String => $"'{element.GetString()}'",
            JsonValueKind.Number => element.GetRawText(),
            JsonValueKind.Object => "an object",
            JsonValueKind.Array => "an array",
            JsonValueKind.True or JsonValueKind.False => element.GetRawText(),
            _ => "null",
        };
}
