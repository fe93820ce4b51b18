namespace EdgeLam.Contracts.Tests.Golden;

/// <summary>Every golden vector decodes (or fails) as the manifest says, and valid ones re-encode byte for byte.</summary>
public sealed class WireGoldenTests
{
    public static TheoryData<string> Vectors => GoldenVectors.Files();

    [Theory]
    [MemberData(nameof(Vectors))]
    public void Golden_vector_decodes_as_the_manifest_says(string file) => GoldenVectors.Check(file);
}
