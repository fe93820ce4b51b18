using EdgeLam.Gateway.Training;
using EdgeLam.Model.Architecture;
using Xunit;

namespace EdgeLam.Gateway.Tests.Training;

public sealed class AdapterLayoutTests
{
    [Fact]
    public void A_selection_adapts_its_kinds_in_every_block_and_single_projections_where_named()
    {
        var config = new TinyVitConfig();
        var layout = AdapterLayout.ForTinyVit(config, ["q", "v", "blocks.3.fc2"]);

        Assert.Equal(
            ["blocks.0.q", "blocks.0.v", "blocks.1.q", "blocks.1.v", "blocks.2.q", "blocks.2.v", "blocks.3.q", "blocks.3.v", "blocks.3.fc2"],
            layout.Projections.Select(p => p.Name));
        Assert.Equal(6 * config.Layers, AdapterLayout.ForTinyVit(config).Projections.Count);
        Assert.Equal(AdapterLayout.ForTinyVit(config).FullParameterCount, layout.FullParameterCount);
    }

    [Theory]
    [InlineData("qkv")]
    [InlineData("blocks.4.q")]
    [InlineData("blocks.0.head")]
    public void An_entry_that_names_no_projection_of_the_model_is_refused_with_the_entry_named(string entry)
    {
        var error = Assert.Throws<ArgumentException>(() => AdapterLayout.ForTinyVit(new TinyVitConfig(), ["q", entry]));

        Assert.Contains($"'{entry}'", error.Message, StringComparison.Ordinal);
        Assert.Contains("blocks.{0..3}.{kind}", error.Message, StringComparison.Ordinal);
    }
}
