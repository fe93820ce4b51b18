using System.Buffers.Binary;
using System.IO.Compression;

namespace EdgeLam.Model.Data;

/// <summary>The Fashion-MNIST training and test sets (Xiao et al. 2017).</summary>
public sealed record FashionMnistData(Dataset Train, Dataset Test);

/// <summary>
/// Reads Fashion-MNIST from the standard gzip-compressed IDX files (format of LeCun's MNIST page),
/// from any folder; by default the one the Debian package installs.
/// </summary>
public static class FashionMnist
{
    public const string DefaultDirectory = "/usr/share/datasets/fashion-mnist";
    public const string DebianPackage = "dataset-fashion-mnist";
    public const int ImageSize = 28;
    public const int ClassCount = 10;
    public const int TrainCount = 60000;
    public const int TestCount = 10000;

    private const int ImagesMagic = 0x00000803;
    private const int LabelsMagic = 0x00000801;

    public static readonly IReadOnlyList<string> ClassNames =
        ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

    /// <summary>Loads both splits from <paramref name="directory"/> (default: <see cref="DefaultDirectory"/>).</summary>
    public static FashionMnistData Load(string? directory = null)
    {
        directory ??= DefaultDirectory;
        Dataset train = LoadSplit(directory, "train", TrainCount);
        Dataset test = LoadSplit(directory, "t10k", TestCount);
        return new FashionMnistData(train, test);
    }

    private static Dataset LoadSplit(string directory, string prefix, int expectedCount)
    {
        string imagesPath = Path.Combine(directory, $"{prefix}-images-idx3-ubyte.gz");
        string labelsPath = Path.Combine(directory, $"{prefix}-labels-idx1-ubyte.gz");
        byte[] pixels = ReadImages(imagesPath, expectedCount);
        byte[] labels = ReadLabels(labelsPath, expectedCount);
        return new Dataset(pixels, labels, ImageSize, ClassCount);
    }

    private static byte[] ReadImages(string path, int expectedCount)
    {
        byte[] content = Decompress(path);
        const int headerLength = 16;
        if (content.Length < headerLength)
            throw new DatasetFileException(path, $"only {content.Length} bytes, shorter than the 16-byte IDX image header");
        int magic = BinaryPrimitives.ReadInt32BigEndian(content);
        if (magic != ImagesMagic)
            throw new DatasetFileException(path, $"bad magic number 0x{magic:X8}, expected 0x{ImagesMagic:X8} (IDX unsigned-byte 3-D images)");
        int count = BinaryPrimitives.ReadInt32BigEndian(content.AsSpan(4));
        int rows = BinaryPrimitives.ReadInt32BigEndian(content.AsSpan(8));
        int columns = BinaryPrimitives.ReadInt32BigEndian(content.AsSpan(12));
        if (count != expectedCount)
            throw new DatasetFileException(path, $"holds {count} images, expected {expectedCount}");
        if (rows != ImageSize || columns != ImageSize)
            throw new DatasetFileException(path, $"images are {rows}x{columns}, expected {ImageSize}x{ImageSize}");
        long expectedLength = headerLength + ((long)count * rows * columns);
        if (content.Length != expectedLength)
            throw new DatasetFileException(path, $"payload is {content.Length} bytes, expected {expectedLength} for {count} images");
        return content.AsSpan(headerLength).ToArray();
    }

    private static byte[] ReadLabels(string path, int expectedCount)
    {
        byte[] content = Decompress(path);
        const int headerLength = 8;
        if (content.Length < headerLength)
            throw new DatasetFileException(path, $"only {content.Length} bytes, shorter than the 8-byte IDX label header");
        int magic = BinaryPrimitives.ReadInt32BigEndian(content);
        if (magic != LabelsMagic)
            throw new DatasetFileException(path, $"bad magic number 0x{magic:X8}, expected 0x{LabelsMagic:X8} (IDX unsigned-byte 1-D labels)");
        int count = BinaryPrimitives.ReadInt32BigEndian(content.AsSpan(4));
        if (count != expectedCount)
            throw new DatasetFileException(path, $"holds {count} labels, expected {expectedCount}");
        if (content.Length != headerLength + count)
            throw new DatasetFileException(path, $"payload is {content.Length} bytes, expected {headerLength + count} for {count} labels");
        byte[] labels = content.AsSpan(headerLength).ToArray();
        int invalid = Array.FindIndex(labels, label => label >= ClassCount);
        if (invalid >= 0)
            throw new DatasetFileException(path, $"label {labels[invalid]} at index {invalid} is not one of the {ClassCount} classes");
        return labels;
    }

    private static byte[] Decompress(string path)
    {
        if (!File.Exists(path))
            throw new DatasetFileException(path, "file not found");
        try
        {
            using FileStream file = File.OpenRead(path);
            using var gzip = new GZipStream(file, CompressionMode.Decompress);
            using var buffer = new MemoryStream();
            gzip.CopyTo(buffer);
            return buffer.ToArray();
        }
        catch (InvalidDataException exception)
        {
            throw new DatasetFileException(path, $"not a valid gzip stream ({exception.Message})", exception);
        }
        catch (EndOfStreamException exception)
        {
            throw new DatasetFileException(path, "gzip stream is truncated", exception);
        }
    }
}
