using EdgeLam.Model.Data;

namespace EdgeLam.Gateway.Unlearning.Verification;

/// <summary>
/// A BadNets-style backdoor (Gu et al. 2017): a white square patch in the bottom-right corner of the
/// image; poisoned training images carry the patch and the attacker's target label.
/// </summary>
public sealed record BackdoorTrigger(int Size = 4, int TargetClass = 0, byte Intensity = 255)
{
    public void Validate(Dataset data)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (Size < 1 || Size > data.ImageSize)
            throw new ArgumentException($"A trigger of {Size} pixels does not fit {data.ImageSize}x{data.ImageSize} images; it must be 1..{data.ImageSize} pixels wide.", nameof(data));
        if (TargetClass < 0 || TargetClass >= data.ClassCount)
            throw new ArgumentException($"Target class {TargetClass} is not one of the {data.ClassCount} classes.", nameof(data));
    }

    /// <summary>A copy of <paramref name="data"/> where the images at <paramref name="poisoned"/> carry the trigger and the target label.</summary>
    public Dataset Poison(Dataset data, IEnumerable<int> poisoned)
    {
        Validate(data);
        ArgumentNullException.ThrowIfNull(poisoned);
        var pixels = (byte[])data.Pixels.Clone();
        var labels = (byte[])data.Labels.Clone();
        foreach (var index in poisoned)
        {
            Stamp(pixels, index, data.ImageSize);
            labels[index] = (byte)TargetClass;
        }
        return new Dataset(pixels, labels, data.ImageSize, data.ClassCount);
    }

    /// <summary>
    /// The attack test set: every image of <paramref name="test"/> whose true class is not the target, with
    /// the trigger, labelled with the target; a model's accuracy on it is the attack success rate.
    /// </summary>
    public Dataset AttackSet(Dataset test)
    {
        Validate(test);
        var nonTarget = Enumerable.Range(0, test.Count).Where(i => test.Labels[i] != TargetClass).ToArray();
        var subset = test.Subset(nonTarget);
        return Poison(subset, Enumerable.Range(0, subset.Count));
    }

    private void Stamp(byte[] pixels, int image, int imageSize)
    {
        var offset = image * imageSize * imageSize;
        for (var row = imageSize - Size; row < imageSize; row++)
            for (var column = imageSize - Size; column < imageSize; column++)
                pixels[offset + (row * imageSize) + column] = Intensity;
    }
}
