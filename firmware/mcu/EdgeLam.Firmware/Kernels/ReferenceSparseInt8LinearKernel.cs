namespace EdgeLam.Firmware.Kernels;

/// <summary>
/// Reference structured-sparse int8 fully connected kernel: the reference loops, visiting only the kept blocks of
/// the layer's <see cref="StructuredSparsityMask"/>. Pruned blocks are zero, so the result equals the dense kernels'.
/// </summary>
public sealed class ReferenceSparseInt8LinearKernel : Int8LinearKernelBase
{
    /// <inheritdoc />
    public override string Name => "sparse-reference";

    /// <inheritdoc />
    protected override void PrepareVariant(QuantizedLinearWeights weights)
    {
        if (weights.Sparsity == null)
        {
            throw new System.ArgumentException("A sparse kernel needs a layer with a block mask (QuantizedLinearWeights.ApplySparsity).", nameof(weights));
        }
    }

    /// <inheritdoc />
    protected override void EvalVariant(sbyte[] input, int inputOffset, int rows, sbyte[] output, int outputOffset)
    {
        QuantizedLinearWeights layer = Layer;
        StructuredSparsityMask mask = layer.Sparsity!;
        int inFeatures = layer.In;
        int outFeatures = layer.Out;
        int zeroPoint = InputZeroPoint;
        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < outFeatures; c++)
            {
                int accumulator = layer.Bias[c];
                for (int block = 0; block < mask.BlocksPerRow; block++)
                {
                    if (!mask.IsKept(c, block))
                    {
                        continue;
                    }

                    for (int k = mask.BlockStart(block); k < mask.BlockEnd(block); k++)
                    {
                        accumulator += (input[inputOffset + (r * inFeatures) + k] - zeroPoint) * layer.Weights[(c * inFeatures) + k];
                    }
                }

                output[outputOffset + (r * outFeatures) + c] = OutputRequantizer.Requantize(accumulator, c);
            }
        }
    }
}
