namespace EdgeLam.Model.Data;

/// <summary>
/// Labeled grayscale images kept as bytes (one byte per pixel, row-major per image).
/// Pixels become floats in [0, 1] (byte / 255) only when a batch is gathered.
/// </summary>
public sealed class Dataset
{
    public Dataset(byte[] pixels, byte[] labels, int imageSize, int classCount = 10)
    {
        ArgumentNullException.ThrowIfNull(pixels);
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(imageSize);
        if (pixels.Length != labels.Length * imageSize * imageSize)
            throw new ArgumentException($"Pixel buffer holds {pixels.Length} bytes; {labels.Length} images of {imageSize}x{imageSize} need {labels.Length * imageSize * imageSize}.", nameof(pixels));
        foreach (byte label in labels)
        {
            if (label >= classCount)
                throw new ArgumentException($"Label {label} is outside the {classCount} classes.", nameof(labels));
        }
        Pixels = pixels;
        Labels = labels;
        ImageSize = imageSize;
        ClassCount = classCount;
    }

    /// <summary>All images, row-major, [Count, ImageSize, ImageSize].</summary>
    public byte[] Pixels { get; }
    public byte[] Labels { get; }
    public int ImageSize { get; }
    public int ClassCount { get; }
    public int Count => Labels.Length;
    public int PixelsPerImage => ImageSize * ImageSize;

    public ReadOnlySpan<byte> Image(int index) => Pixels.AsSpan(index * PixelsPerImage, PixelsPerImage);

    /// <summary>A new dataset holding the given images in the given order.</summary>
    public Dataset Subset(IReadOnlyList<int> indices)
    {
        ArgumentNullException.ThrowIfNull(indices);
        var pixels = new byte[indices.Count * PixelsPerImage];
        var labels = new byte[indices.Count];
        for (int i = 0; i < indices.Count; i++)
        {
            int source = indices[i];
            if ((uint)source >= (uint)Count)
                throw new ArgumentOutOfRangeException(nameof(indices), source, $"Index outside the {Count} images.");
            Image(source).CopyTo(pixels.AsSpan(i * PixelsPerImage));
            labels[i] = Labels[source];
        }
        return new Dataset(pixels, labels, ImageSize, ClassCount);
    }

    /// <summary>The first <paramref name="count"/> images (or all, when fewer).</summary>
    public Dataset Take(int count) => Subset(Enumerable.Range(0, Math.Min(count, Count)).ToArray());

    /// <summary>Writes the images at <paramref name="indices"/> as floats in [0, 1] into <paramref name="destination"/>.</summary>
    public void GatherScaledPixels(ReadOnlySpan<int> indices, Span<float> destination)
    {
        if (destination.Length < indices.Length * PixelsPerImage)
            throw new ArgumentException("Destination is smaller than the gathered images.", nameof(destination));
        for (int i = 0; i < indices.Length; i++)
        {
            ReadOnlySpan<byte> image = Image(indices[i]);
            Span<float> target = destination.Slice(i * PixelsPerImage, PixelsPerImage);
            for (int p = 0; p < image.Length; p++)
                target[p] = image[p] / 255f;
        }
    }

    /// <summary>Images [start, start+count) as floats in [0, 1].</summary>
    public float[] ScaledPixels(int start, int count)
    {
        var result = new float[count * PixelsPerImage];
        ReadOnlySpan<byte> source = Pixels.AsSpan(start * PixelsPerImage, count * PixelsPerImage);
        for (int p = 0; p < source.Length; p++)
            result[p] = source[p] / 255f;
        return result;
    }

    /// <summary>How many images of each class the dataset holds.</summary>
    public int[] ClassCounts()
    {
        var counts = new int[ClassCount];
        foreach (byte label in Labels)
            counts[label]++;
        return counts;
    }
}
