namespace EdgeLam.Cli.Tests;

/// <summary>The checkout the tests run from: the folder above the test binaries that holds EdgeLamIoT.sln.</summary>
public static class RepositoryRoot
{
    public static string Path { get; } = Find();

    private static string Find()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(System.IO.Path.Combine(directory.FullName, "EdgeLamIoT.sln")))
                return directory.FullName;
        }
        throw new DirectoryNotFoundException($"No EdgeLamIoT.sln in '{AppContext.BaseDirectory}' or any folder above it.");
    }

    /// <summary>The demo's schema of results.json.</summary>
    public static string ResultsSchema => System.IO.Path.Combine(Path, "gateway", "EdgeLam.Cli", "Demo", "results.schema.json");

    /// <summary>The base checkpoint cache that ./edgelam demo uses, so a checkpoint pretrained here serves the demo too and the other way round.</summary>
    public static string CheckpointCache => System.IO.Path.Combine(Path, ".edgelam", "checkpoints");
}
