using EdgeLam.Boards;

namespace EdgeLam.Boards.Tests;

/// <summary>The board table in hardware/README.md summarizes the profiles; it must say what they say.</summary>
public sealed class HardwareReadmeTests
{
    [Fact]
    public void The_board_table_matches_tier_rank_and_adaptable_layers_of_every_profile()
    {
        var boardsDirectory = BoardProfileLoader.FindBoardsDirectory(AppContext.BaseDirectory);
        var readme = File.ReadAllLines(Path.Combine(boardsDirectory, "..", "README.md"));
        var boardTableStart = Array.IndexOf(readme, "## Boards");
        var rows = readme.Skip(boardTableStart)
            .SkipWhile(line => !line.StartsWith("| profile |", StringComparison.Ordinal))
            .Skip(2)
            .TakeWhile(line => line.StartsWith('|'))
            .Select(line => line.Split('|', StringSplitOptions.TrimEntries)[1..^1])
            .ToDictionary(cells => cells[0].Trim('`'));

        foreach (var profile in BoardProfileLoader.LoadAll(boardsDirectory))
        {
            Assert.True(rows.TryGetValue(profile.Id, out var cells), $"hardware/README.md has no board row for {profile.Id}");
            Assert.Equal(profile.Tier.Letter(), cells[2]);
            Assert.Equal(string.Join(", ", profile.Precisions.Select(precision => precision.ToString().ToLowerInvariant())), cells[5]);
            Assert.Equal(profile.Adaptation.MaxLoraRank.Value.ToString(System.Globalization.CultureInfo.InvariantCulture), cells[6]);
            Assert.Equal(profile.Adaptation.MaxAdaptedLayerCount?.Value.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "all", cells[7]);
        }
        Assert.Equal(BoardProfileLoader.LoadAll(boardsDirectory).Count, rows.Count);
    }
}
