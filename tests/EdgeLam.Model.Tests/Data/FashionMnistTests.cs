using System.Buffers.Binary;
using System.IO.Compression;
using EdgeLam.Model.Data;

namespace EdgeLam.Model.Tests.Data;

public sealed class FashionMnistTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("edgelam-fmnist-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void Installed_dataset_has_the_official_sizes_and_balanced_classes()
    {
        FashionMnistData data = SharedData.Fashion;
        Assert.Equal(60000, data.Train.Count);
        Assert.Equal(10000, data.Test.Count);
        Assert.Equal(784, data.Train.PixelsPerImage);
        Assert.All(data.Train.ClassCounts(), count => Assert.Equal(6000, count));
        Assert.All(data.Test.ClassCounts(), count => Assert.Equal(1000, count));
        Assert.Contains(data.Train.Pixels, pixel => pixel == 255);
    }

    [Fact]
    public void Missing_file_names_the_file_and_the_package()
    {
        var error = Assert.Throws<DatasetFileException>(() => FashionMnist.Load(_directory));
        Assert.Contains("train-images-idx3-ubyte.gz", error.Message);
        Assert.Contains("dataset-fashion-mnist", error.Message);
        Assert.Contains("not found", error.Message);
    }

    [Fact]
    public void Bad_magic_is_reported_with_the_file_name()
    {
        WriteGzip("train-images-idx3-ubyte.gz", Header(0x0801, 60000, 28, 28));
        var error = Assert.Throws<DatasetFileException>(() => FashionMnist.Load(_directory));
        Assert.EndsWith("train-images-idx3-ubyte.gz", error.FilePath);
        Assert.Contains("magic", error.Message);
        Assert.Contains("dataset-fashion-mnist", error.Message);
    }

    [Fact]
    public void Wrong_count_is_reported_with_the_file_name()
    {
        WriteValidSmallFiles();
        var error = Assert.Throws<DatasetFileException>(() => FashionMnist.Load(_directory));
        Assert.EndsWith("train-images-idx3-ubyte.gz", error.FilePath);
        Assert.Contains("expected 60000", error.Message);
    }

    [Fact]
    public void Truncated_gzip_is_reported_with_the_file_name()
    {
        byte[] images = Header(0x0803, 60000, 28, 28).Concat(Enumerable.Range(0, 20000).Select(i => (byte)(i * 7))).ToArray();
        using var compressed = new MemoryStream();
        using (var gzip = new GZipStream(compressed, CompressionLevel.Fastest, leaveOpen: true))
            gzip.Write(images);
        File.WriteAllBytes(Path.Combine(_directory, "train-images-idx3-ubyte.gz"), compressed.ToArray()[..(int)(compressed.Length / 2)]);
        var error = Assert.Throws<DatasetFileException>(() => FashionMnist.Load(_directory));
        Assert.EndsWith("train-images-idx3-ubyte.gz", error.FilePath);
        Assert.Contains("dataset-fashion-mnist", error.Message);
    }

    [Fact]
    public void Not_gzip_is_reported_with_the_file_name()
    {
        File.WriteAllText(Path.Combine(_directory, "train-images-idx3-ubyte.gz"), "this is not gzip");
        var error = Assert.Throws<DatasetFileException>(() => FashionMnist.Load(_directory));
        Assert.EndsWith("train-images-idx3-ubyte.gz", error.FilePath);
    }

    private void WriteValidSmallFiles()
    {
        byte[] images = Header(0x0803, 3, 28, 28).Concat(new byte[3 * 784]).ToArray();
        WriteGzip("train-images-idx3-ubyte.gz", images);
        WriteGzip("train-labels-idx1-ubyte.gz", Header(0x0801, 3).Concat(new byte[3]).ToArray());
    }

    private static byte[] Header(params int[] values)
    {
        var bytes = new byte[values.Length * 4];
        for (int i = 0; i < values.Length; i++)
            BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(i * 4), values[i]);
        return bytes;
    }

    private void WriteGzip(string name, byte[] content)
    {
        using FileStream file = File.Create(Path.Combine(_directory, name));
        using var gzip = new GZipStream(file, CompressionLevel.Fastest);
        gzip.Write(content);
    }
}
