using EdgeLam.Boards;

namespace EdgeLam.Boards.Tests;

public sealed class ShippedProfileTests
{
    private static readonly string BoardsDirectory = BoardProfileLoader.FindBoardsDirectory(AppContext.BaseDirectory);

    private static readonly string[] ShippedIdsInOrder = ["esp32-s3", "esp32-wrover", "jetson-orin-nano", "raspberry-pi-4", "raspberry-pi-5"];

    public static TheoryData<string> ShippedIds() => new(ShippedIdsInOrder);

    [Fact]
    public void Every_shipped_profile_loads_and_the_schema_is_skipped()
    {
        var ids = BoardProfileLoader.LoadAll(BoardsDirectory).Select(profile => profile.Id);

        Assert.Equal(ShippedIdsInOrder, ids);
    }

    [Fact]
    public void The_built_in_profiles_are_the_shipped_ones()
    {
        var builtIn = BoardProfileLoader.LoadBuiltIn();

        Assert.Equal(ShippedIdsInOrder, builtIn.Select(profile => profile.Id));
        Assert.All(builtIn, profile =>
            Assert.Equal(LoadShipped(profile.Id).Memory, profile.Memory));
    }

    [Theory]
    [InlineData("esp32-wrover", BoardTier.Low)]
    [InlineData("esp32-s3", BoardTier.Low)]
    [InlineData("raspberry-pi-4", BoardTier.Medium)]
    [InlineData("raspberry-pi-5", BoardTier.Medium)]
    [InlineData("jetson-orin-nano", BoardTier.High)]
    public void Boards_sit_in_the_tier_of_the_design_table(string id, BoardTier tier)
    {
        Assert.Equal(tier, LoadShipped(id).Tier);
    }

    [Theory]
    [MemberData(nameof(ShippedIds))]
    public void Rank_precisions_and_runtime_follow_the_tier(string id)
    {
        var profile = LoadShipped(id);

        var expectedRank = profile.Tier switch { BoardTier.High => 16, BoardTier.Medium => 8, _ => 4 };
        Assert.Equal(expectedRank, profile.Adaptation.MaxLoraRank.Value);
        if (profile.Tier == BoardTier.Low)
        {
            Assert.Equal([NumericPrecision.Int8], profile.Precisions);
            Assert.Equal(BoardRuntime.NanoFramework, profile.Runtime);
            Assert.NotNull(profile.Adaptation.MaxAdaptedLayerCount);
        }
        else
        {
            Assert.Equal([NumericPrecision.Fp32, NumericPrecision.Fp16, NumericPrecision.Int8], profile.Precisions);
            Assert.Equal(BoardRuntime.DotnetAgent, profile.Runtime);
        }
        Assert.All(profile.Precisions, precision => Assert.True(profile.ThroughputAt(precision).Value > 0));
    }

    [Fact]
    public void Jetson_prefers_cuda_and_falls_back_to_cpu()
    {
        Assert.Equal([ExecutionProvider.Cuda, ExecutionProvider.Cpu], LoadShipped("jetson-orin-nano").ExecutionProviders);
    }

    [Fact]
    public void An_esp32_wrover_carries_the_published_memory_figures()
    {
        var memory = LoadShipped("esp32-wrover").Memory;

        Assert.Equal(520 * 1024, memory.RamBytes.Value);
        Assert.Equal(8 * 1024 * 1024, memory.PsramBytes.Value);
        Assert.Equal(4 * 1024 * 1024, memory.FlashBytes.Value);
        Assert.Equal(FigureSource.Datasheet, memory.RamBytes.Source);
        Assert.Equal(FigureSource.Estimate, memory.ModelBudgetBytes.Source);
    }

    [Fact]
    public void Asking_for_the_throughput_of_an_unsupported_precision_names_the_board()
    {
        var error = Assert.Throws<ArgumentException>(() => LoadShipped("esp32-s3").ThroughputAt(NumericPrecision.Fp32));

        Assert.Contains("esp32-s3", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Finding_the_boards_directory_fails_clearly_outside_the_repository()
    {
        var outside = Directory.CreateTempSubdirectory("edgelam-boards-");
        try
        {
            var error = Assert.Throws<DirectoryNotFoundException>(() => BoardProfileLoader.FindBoardsDirectory(outside.FullName));
            Assert.Contains("hardware/boards", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            outside.Delete(recursive: true);
        }
    }

    private static BoardProfile LoadShipped(string id) => BoardProfileLoader.Load(Path.Combine(BoardsDirectory, id + ".json"));
}
