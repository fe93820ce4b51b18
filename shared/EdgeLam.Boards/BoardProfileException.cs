namespace EdgeLam.Boards;

/// <summary>A board profile that cannot be read; the message names the file and the JSON path of the bad field.</summary>
public sealed class BoardProfileException : Exception
{
    public BoardProfileException(string fileName, string jsonPath, string problem, Exception? innerException = null)
        : base($"{fileName}: {jsonPath} {problem}", innerException)
    {
        FileName = fileName;
        JsonPath = jsonPath;
    }

    /// <summary>The profile's file name, or the name given to <see cref="BoardProfileLoader.Parse"/>.</summary>
    public string FileName { get; }

    /// <summary>JSON path of the bad field, such as <c>$.memory.ramBytes.source</c>.</summary>
    public string JsonPath { get; }
}
