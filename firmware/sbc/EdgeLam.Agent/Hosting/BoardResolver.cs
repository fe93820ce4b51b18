using EdgeLam.Boards;

namespace EdgeLam.Agent;

/// <summary>Finds the board profile an agent runs as: a JSON file path, or a built-in profile id.</summary>
public static class BoardResolver
{
    /// <summary>The profile named by <paramref name="board"/>; it must be a board that runs the .NET agent.</summary>
    public static BoardProfile Resolve(string board)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(board);
        BoardProfile profile;
        if (File.Exists(board))
        {
            profile = BoardProfileLoader.Load(board);
        }
        else
        {
            var builtIn = BoardProfileLoader.LoadBuiltIn();
            profile = builtIn.FirstOrDefault(candidate => candidate.Id == board)
                ?? throw new ArgumentException(
                    $"Board '{board}' is neither a profile file nor a built-in profile ({string.Join(", ", builtIn.Select(p => p.Id))}).", nameof(board));
        }

        if (profile.Runtime != BoardRuntime.DotnetAgent)
            throw new ArgumentException($"Board '{profile.Id}' runs {profile.Runtime}, not the .NET agent; use the firmware for it.", nameof(board));
        return profile;
    }
}
