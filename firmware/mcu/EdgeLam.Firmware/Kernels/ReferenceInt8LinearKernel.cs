namespace EdgeLam.Firmware.Kernels;

/// <summary>
/// Reference int8 fully connected kernel in plain loops, the definition the other variants are checked against:
/// acc[r,c] = bias[c] + Σ_k (x[r,k] − z_x) · W[c,k] in int32 (wrapping), then per-channel requantization.
/// </summary>
public sealed class ReferenceInt8LinearKernel : Int8LinearKernelBase
{
    /// <inheritdoc />
    public override string Name => "reference";

    /// <inheritdoc />
    protected override void PrepareVariant(QuantizedLinearWeights weights)
    {
    }

    /// <inheritdoc />
    protected override void EvalVariant(sbyte[] input, int inputOffset, int rows, sbyte[] output, int outputOffset)
    {
        QuantizedLinearWeights layer = Layer;
        int inFeatures = layer.In;
        int outFeatures = layer.Out;
        int zeroPoint = InputZeroPoint;
        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < outFeatures; c++)
            {
                int accumulator = layer.Bias[c];
                for (int k = 0; k < inFeatures; k++)
                {
                    accumulator += (input[inputOffset + (r * inFeatures) + k] - zeroPoint) * layer.Weights[(c * inFeatures) + k];
                }

                output[outputOffset + (r * outFeatures) + c] = OutputRequantizer.Requantize(accumulator, c);
            }
        }
    }
}
