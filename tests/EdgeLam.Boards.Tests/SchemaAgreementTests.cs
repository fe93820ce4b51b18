using System.Text.Json;
using EdgeLam.Boards;

namespace EdgeLam.Boards.Tests;

/// <summary>The JSON schema and the hand-written loader describe the same format, so neither can drift alone.</summary>
public sealed class SchemaAgreementTests
{
    private static readonly JsonElement Schema = ReadSchema();

    public static TheoryData<string> ObjectPaths() => new(BoardProfileFields.Required.Keys.Where(key => key != BoardProfileFields.FigureKey));

    [Fact]
    public void The_schema_is_a_draft_2020_12_schema()
    {
        Assert.Equal("https://json-schema.org/draft/2020-12/schema", Schema.GetProperty("$schema").GetString());
        Assert.Equal("object", Schema.GetProperty("type").GetString());
    }

    [Fact]
    public void The_schema_requires_the_same_top_level_properties_as_the_loader()
    {
        Assert.Equal(Sorted(BoardProfileFields.Root), Sorted(Strings(Schema.GetProperty("required"))));
    }

    [Theory]
    [MemberData(nameof(ObjectPaths))]
    public void Each_object_has_the_same_required_and_known_properties_in_schema_and_loader(string jsonPath)
    {
        var schemaObject = SchemaAt(jsonPath);
        var optional = BoardProfileFields.Optional.TryGetValue(jsonPath, out var names) ? names : [];

        Assert.Equal(Sorted(BoardProfileFields.Required[jsonPath]), Sorted(Strings(schemaObject.GetProperty("required"))));
        Assert.Equal(
            Sorted(BoardProfileFields.Required[jsonPath].Concat(optional)),
            Sorted(schemaObject.GetProperty("properties").EnumerateObject().Select(property => property.Name)));
        Assert.False(schemaObject.GetProperty("additionalProperties").GetBoolean());
    }

    [Fact]
    public void Every_figure_definition_requires_value_source_and_reference()
    {
        var figureDefinitions = Schema.GetProperty("$defs").EnumerateObject()
            .Where(definition => definition.Name.EndsWith("Figure", StringComparison.Ordinal))
            .ToArray();

        Assert.NotEmpty(figureDefinitions);
        Assert.All(figureDefinitions, definition =>
            Assert.Equal(Sorted(BoardProfileFields.Figure), Sorted(Strings(definition.Value.GetProperty("required")))));
    }

    [Fact]
    public void The_schema_spells_sources_and_precisions_as_the_loader_does()
    {
        var definitions = Schema.GetProperty("$defs");

        Assert.Equal(
            Enum.GetNames<FigureSource>().Select(name => name.ToLowerInvariant()),
            Strings(definitions.GetProperty("source").GetProperty("enum")));
        Assert.Equal(
            Enum.GetNames<NumericPrecision>().Select(name => name.ToLowerInvariant()),
            Strings(definitions.GetProperty("precision").GetProperty("enum")));
    }

    /// <summary>Follows a loader path such as "$.gpio.temperatureSensor" through the schema's properties and $refs.</summary>
    private static JsonElement SchemaAt(string jsonPath)
    {
        var node = Schema;
        foreach (var segment in jsonPath.Split('.').Skip(1))
            node = Resolve(node.GetProperty("properties").GetProperty(segment));
        return node;
    }

    private static JsonElement Resolve(JsonElement node)
    {
        if (!node.TryGetProperty("$ref", out var reference))
            return node;
        const string prefix = "#/$defs/";
        var target = reference.GetString()!;
        Assert.StartsWith(prefix, target, StringComparison.Ordinal);
        return Schema.GetProperty("$defs").GetProperty(target[prefix.Length..]);
    }

    private static JsonElement ReadSchema()
    {
        var path = Path.Combine(BoardProfileLoader.FindBoardsDirectory(AppContext.BaseDirectory), BoardProfileLoader.SchemaFileName);
        using var document = JsonDocument.Parse(File.ReadAllText(path));
        return document.RootElement.Clone();
    }

    private static string[] Strings(JsonElement array) => array.EnumerateArray().Select(item => item.GetString()!).ToArray();

    private static string[] Sorted(IEnumerable<string> names) => names.Order(StringComparer.Ordinal).ToArray();
}
