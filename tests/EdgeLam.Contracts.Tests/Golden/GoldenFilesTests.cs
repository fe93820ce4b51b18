using System.Text.Json;

namespace EdgeLam.Contracts.Tests.Golden;

/// <summary>The committed golden files are exactly what the generator produces (the encoders are deterministic).</summary>
public sealed class GoldenFilesTests
{
    private const string WriteVariable = "EDGELAM_WRITE_GOLDEN";

    [Fact]
    public void Committed_golden_files_equal_the_generator_output()
    {
        IReadOnlyList<(GoldenVector Vector, byte[] Data)> generated = GoldenVectorGenerator.Generate();
        byte[] manifest = ManifestBytes(generated);
        string sourceFolder = Path.Combine(RepositoryRoot(), "tests", "golden");
        if (Environment.GetEnvironmentVariable(WriteVariable) == "1")
        {
            Write(sourceFolder, generated, manifest);
        }

        Assert.Equal(generated.Count, generated.Select(entry => entry.Vector.File).Distinct().Count());
        foreach ((GoldenVector vector, byte[] data) in generated)
        {
            string path = Path.Combine(sourceFolder, vector.File);
            Assert.True(File.Exists(path), $"{vector.File} is missing; run the tests with {WriteVariable}=1 to write the golden files");
            Assert.True(data.AsSpan().SequenceEqual(File.ReadAllBytes(path)), $"{vector.File} differs from the generator output");
        }

        Assert.Equal(Normalize(manifest), Normalize(File.ReadAllBytes(Path.Combine(sourceFolder, "manifest.json"))));
    }

    [Fact]
    public void Manifest_covers_every_dtype_quantization_message_and_error()
    {
        IReadOnlyList<GoldenVector> vectors = GoldenVectors.All;
        string[] validFrameDtypes = vectors.Where(v => v.Kind == "frame" && v.Valid).Select(v => v.Dtype!).Distinct().ToArray();
        Assert.Equal(["f16", "f32", "i32", "i8", "u8"], validFrameDtypes.Order());
        Assert.Equal(["none", "per-channel", "per-tensor"], vectors.Where(v => v.Kind == "frame" && v.Valid).Select(v => v.Quantization!).Distinct().Order());

        string[] messageTypes = typeof(EdgeLam.Contracts.Messages.IWireMessage).Assembly.GetTypes()
            .Where(type => type.IsClass && type.GetInterfaces().Contains(typeof(EdgeLam.Contracts.Messages.IWireMessage)))
            .Select(type => type.Name).Order().ToArray();
        Assert.Equal(messageTypes, vectors.Where(v => v.Kind == "message" && v.Valid).Select(v => v.Message!).Distinct().Order());

        string[] frameErrors = vectors.Where(v => v.Kind == "frame" && !v.Valid).Select(v => v.Error!).Distinct().ToArray();
        foreach (string error in new[] { "Truncated", "BadMagic", "UnsupportedVersion", "UnknownDtype", "CrcMismatch", "ShapePayloadMismatch", "Oversize", "NonFinite", "BadQuantization", "TrailingData" })
        {
            Assert.Contains(error, frameErrors);
        }

        Assert.Contains(vectors, v => v.Kind == "bundle" && v.Valid);
        Assert.Contains(vectors, v => v.Kind == "message" && !v.Valid && v.Error == "MalformedJson");
    }

    private static byte[] ManifestBytes(IReadOnlyList<(GoldenVector Vector, byte[] Data)> generated)
    {
        var manifest = new GoldenManifest(1, generated.Select(entry => entry.Vector).ToArray());
        return JsonSerializer.SerializeToUtf8Bytes(manifest, GoldenVectors.ManifestOptions);
    }

    private static string Normalize(byte[] text) => System.Text.Encoding.UTF8.GetString(text).ReplaceLineEndings("\n").TrimEnd();

    private static void Write(string folder, IReadOnlyList<(GoldenVector Vector, byte[] Data)> generated, byte[] manifest)
    {
        foreach ((GoldenVector vector, byte[] data) in generated)
        {
            string path = Path.Combine(folder, vector.File);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllBytes(path, data);
        }

        File.WriteAllBytes(Path.Combine(folder, "manifest.json"), [.. manifest, (byte)'\n']);
    }

    private static string RepositoryRoot()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder != null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "EdgeLamIoT.sln")))
            {
                return folder.FullName;
            }
        }

        throw new InvalidOperationException("EdgeLamIoT.sln not found above " + AppContext.BaseDirectory);
    }
}
