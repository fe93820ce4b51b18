using System.Text.Json;

namespace EdgeLam.Boards;

/// <summary>
/// Reads board profiles (hardware/boards/*.json). Validation is done by hand so that every error names
/// the file and the JSON path of the bad field, e.g. "raspberry-pi-4.json: $.memory.ramBytes.source must be one of ...".
/// </summary>
public static class BoardProfileLoader
{
    /// <summary>The schema's file name; it sits beside the profiles and is not a profile itself.</summary>
    public const string SchemaFileName = "board-profile.schema.json";

    private static readonly JsonDocumentOptions DocumentOptions = new()
    {
        AllowDuplicateProperties = false,
        CommentHandling = JsonCommentHandling.Disallow,
        AllowTrailingCommas = false,
    };

    /// <summary>Reads one profile file.</summary>
    public static BoardProfile Load(string path) => Parse(File.ReadAllText(path), Path.GetFileName(path));

    /// <summary>Reads every profile in a directory (all *.json but the schema), ordered by id.</summary>
    public static IReadOnlyList<BoardProfile> LoadAll(string directory)
    {
        if (!Directory.Exists(directory))
            throw new DirectoryNotFoundException($"Board profile directory '{directory}' does not exist.");
        var profiles = Directory.EnumerateFiles(directory, "*.json")
            .Where(path => !path.EndsWith(".schema.json", StringComparison.OrdinalIgnoreCase))
            .Select(Load)
            .OrderBy(profile => profile.Id, StringComparer.Ordinal)
            .ToArray();
        return profiles.Length > 0
            ? profiles
            : throw new BoardProfileException(directory, "$", "holds no board profiles (*.json)");
    }

    /// <summary>
    /// The profiles of hardware/boards as they were when this assembly was built, for a published agent
    /// or CLI that runs without a repository checkout; ordered by id.
    /// </summary>
    public static IReadOnlyList<BoardProfile> LoadBuiltIn()
    {
        const string prefix = "EdgeLam.Boards.Profiles.";
        var assembly = typeof(BoardProfileLoader).Assembly;
        return assembly.GetManifestResourceNames()
            .Where(resource => resource.StartsWith(prefix, StringComparison.Ordinal))
            .Select(resource =>
            {
                using var stream = assembly.GetManifestResourceStream(resource)!;
                using var reader = new StreamReader(stream);
                return Parse(reader.ReadToEnd(), resource[prefix.Length..]);
            })
            .OrderBy(profile => profile.Id, StringComparer.Ordinal)
            .ToArray();
    }

    /// <summary>Reads one profile from JSON text; <paramref name="name"/> (usually the file name) prefixes every error.</summary>
    public static BoardProfile Parse(string json, string name)
    {
        ArgumentNullException.ThrowIfNull(json);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json, DocumentOptions);
        }
        catch (JsonException exception)
        {
            var where = exception.LineNumber is { } line
                ? $" at line {line + 1}, byte {exception.BytePositionInLine + 1}"
                : string.Empty;
            // The reader's message repeats the position with 0-based numbers; keep only the explanation.
            var explanation = exception.Message.Split(" LineNumber:")[0];
            throw new BoardProfileException(name, exception.Path ?? "$", $"is not well-formed JSON{where}: {explanation}", exception);
        }
        using (document)
        {
            return BoardProfileReader.Read(new ProfileElement(document.RootElement, "$", name));
        }
    }

    /// <summary>
    /// Finds the repository's hardware/boards directory by walking up from <paramref name="baseDirectory"/>
    /// (for example <see cref="AppContext.BaseDirectory"/> of a test or the CLI).
    /// </summary>
    public static string FindBoardsDirectory(string baseDirectory)
    {
        for (var directory = new DirectoryInfo(Path.GetFullPath(baseDirectory)); directory is not null; directory = directory.Parent)
        {
            var candidate = Path.Combine(directory.FullName, "hardware", "boards");
            if (Directory.Exists(candidate))
                return candidate;
        }
        throw new DirectoryNotFoundException($"No hardware/boards directory in '{baseDirectory}' or any directory above it.");
    }
}
