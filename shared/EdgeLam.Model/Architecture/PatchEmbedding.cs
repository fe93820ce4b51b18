using System.Numerics.Tensors;

namespace EdgeLam.Model.Architecture;

/// <summary>
/// Non-overlapping patches → linear embedding + learned position (Dosovitskiy et al. 2021, ViT).
/// Patch p = py·PatchesPerSide + px; inside a patch, element c·P² + dy·P + dx is
/// pixel[c, py·P + dy, px·P + dx] of the image (channel-major, then row-major).
/// </summary>
public static class PatchEmbedding
{
    /// <summary>patches[images·Tokens, PatchDim] from pixels[images, PixelsPerImage].</summary>
    public static void ExtractPatches(TinyVitConfig config, ReadOnlySpan<float> pixels, int images, Span<float> patches)
    {
        int size = config.ImageSize, patch = config.PatchSize, side = config.PatchesPerSide;
        int plane = size * size;
        for (int b = 0; b < images; b++)
        {
            ReadOnlySpan<float> image = pixels.Slice(b * config.PixelsPerImage, config.PixelsPerImage);
            for (int py = 0; py < side; py++)
            {
                for (int px = 0; px < side; px++)
                {
                    Span<float> target = patches.Slice(((b * config.Tokens) + (py * side) + px) * config.PatchDim, config.PatchDim);
                    for (int channel = 0; channel < config.Channels; channel++)
                    {
                        for (int dy = 0; dy < patch; dy++)
                        {
                            image.Slice((channel * plane) + (((py * patch) + dy) * size) + (px * patch), patch)
                                .CopyTo(target.Slice((channel * patch * patch) + (dy * patch), patch));
                        }
                    }
                }
            }
        }
    }

    /// <summary>tokens[images, Tokens, ModelDim] = patches·Wᵀ + b + Position; patches go to <paramref name="patches"/>.</summary>
    public static void Forward(TinyVitWeights weights, ReadOnlySpan<float> pixels, int images, Span<float> tokens, Span<float> patches)
    {
        TinyVitConfig config = weights.Config;
        ExtractPatches(config, pixels, images, patches);
        LinearOperator.Forward(weights.PatchEmbedding, patches, images * config.Tokens, tokens);
        int tokenBlock = config.Tokens * config.ModelDim;
        for (int b = 0; b < images; b++)
        {
            Span<float> imageTokens = tokens.Slice(b * tokenBlock, tokenBlock);
            TensorPrimitives.Add(imageTokens, weights.Position, imageTokens);
        }
    }

    /// <summary>Adds dL/dW, dL/db and dL/dPosition into <paramref name="gradient"/>.</summary>
    public static void Backward(TinyVitWeights weights, ReadOnlySpan<float> patches, ReadOnlySpan<float> tokenGradient, int images, TinyVitWeights gradient)
    {
        TinyVitConfig config = weights.Config;
        LinearOperator.Backward(weights.PatchEmbedding, patches, tokenGradient, images * config.Tokens, default, gradient.PatchEmbedding);
        int tokenBlock = config.Tokens * config.ModelDim;
        for (int b = 0; b < images; b++)
            TensorPrimitives.Add(gradient.Position, tokenGradient.Slice(b * tokenBlock, tokenBlock), gradient.Position);
    }
}
