namespace EdgeLam.Fuzz.Targets;

/// <summary>The golden vectors of tests/golden (valid and malformed) as seed inputs, by kind.</summary>
public static class GoldenSeeds
{
    /// <summary>Finds tests/golden by walking up from the working directory and then from the program's folder.</summary>
    public static string FindDirectory()
    {
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var directory = new DirectoryInfo(start); directory is not null; directory = directory.Parent)
            {
                var candidate = Path.Combine(directory.FullName, "tests", "golden");
                if (File.Exists(Path.Combine(candidate, "manifest.json"))) return candidate;
                if (File.Exists(Path.Combine(directory.FullName, "golden", "manifest.json"))) return Path.Combine(directory.FullName, "golden");
            }
        }

        throw new DirectoryNotFoundException("tests/golden (with manifest.json) was not found above the working directory; pass --golden DIR");
    }

    /// <summary>Every file under golden/{kind} (frames, messages, bundles), malformed ones included, in name order.</summary>
    public static IReadOnlyList<byte[]> Read(string goldenDirectory, string kind)
    {
        var folder = Path.Combine(goldenDirectory, kind);
        if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"golden folder '{folder}' does not exist");
        return [.. Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal).Select(File.ReadAllBytes)];
    }
}
