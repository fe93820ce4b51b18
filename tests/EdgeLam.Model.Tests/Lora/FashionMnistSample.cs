using EdgeLam.Model.Tests.Data;

namespace EdgeLam.Model.Tests.Lora;

internal static class FashionMnistSample
{
    /// <summary>The first test images as floats in [0, 1].</summary>
    public static float[] Pixels(int images) => SharedData.Fashion.Test.ScaledPixels(0, images);
}
