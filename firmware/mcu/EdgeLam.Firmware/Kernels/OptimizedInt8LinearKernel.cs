namespace EdgeLam.Firmware.Kernels;

/// <summary>
/// Optimized int8 fully connected kernel (CMSIS-NN arm_fully_connected_s8 style): the input zero point is folded
/// into the bias at Prepare (bias[c] − z_x·Σ_k W[c,k]), so the hot loop is a bare Σ x·w; four output channels are
/// computed together so each input value is loaded once per block, and the depth loop is unrolled by four.
/// A row of int32 accumulators goes to the requantizer in one call. Integer results equal the reference kernel's
/// exactly, since the folding is an identity in wrapping int32 arithmetic.
/// </summary>
public sealed class OptimizedInt8LinearKernel : Int8LinearKernelBase
{
    private int[] foldedBias = new int[0];
    private int[] accumulators = new int[0];

    /// <inheritdoc />
    public override string Name => "optimized";

    /// <inheritdoc />
    public override int ScratchInt32Count => accumulators.Length;

    /// <inheritdoc />
    protected override void PrepareVariant(QuantizedLinearWeights weights)
    {
        foldedBias = new int[weights.Out];
        accumulators = new int[weights.Out];
        for (int c = 0; c < weights.Out; c++)
        {
            int rowSum = 0;
            for (int k = 0; k < weights.In; k++)
            {
                rowSum += weights.Weights[(c * weights.In) + k];
            }

            foldedBias[c] = weights.Bias[c] - (InputZeroPoint * rowSum);
        }
    }

    /// <inheritdoc />
    protected override void EvalVariant(sbyte[] input, int inputOffset, int rows, sbyte[] output, int outputOffset)
    {
        QuantizedLinearWeights layer = Layer;
        sbyte[] w = layer.Weights;
        int depth = layer.In;
        int channels = layer.Out;
        int depthUnrolled = depth & ~3;
        int channelsBlocked = channels & ~3;
        for (int r = 0; r < rows; r++)
        {
            int x = inputOffset + (r * depth);
            int c = 0;
            for (; c < channelsBlocked; c += 4)
            {
                int w0 = c * depth;
                int w1 = w0 + depth;
                int w2 = w1 + depth;
                int w3 = w2 + depth;
                int acc0 = foldedBias[c];
                int acc1 = foldedBias[c + 1];
                int acc2 = foldedBias[c + 2];
                int acc3 = foldedBias[c + 3];
                int k = 0;
                for (; k < depthUnrolled; k += 4)
                {
                    int x0 = input[x + k];
                    int x1 = input[x + k + 1];
                    int x2 = input[x + k + 2];
                    int x3 = input[x + k + 3];
                    acc0 += (x0 * w[w0 + k]) + (x1 * w[w0 + k + 1]) + (x2 * w[w0 + k + 2]) + (x3 * w[w0 + k + 3]);
                    acc1 += (x0 * w[w1 + k]) + (x1 * w[w1 + k + 1]) + (x2 * w[w1 + k + 2]) + (x3 * w[w1 + k + 3]);
                    acc2 += (x0 * w[w2 + k]) + (x1 * w[w2 + k + 1]) + (x2 * w[w2 + k + 2]) + (x3 * w[w2 + k + 3]);
                    acc3 += (x0 * w[w3 + k]) + (x1 * w[w3 + k + 1]) + (x2 * w[w3 + k + 2]) + (x3 * w[w3 + k + 3]);
                }

                for (; k < depth; k++)
                {
                    int xk = input[x + k];
                    acc0 += xk * w[w0 + k];
                    acc1 += xk * w[w1 + k];
                    acc2 += xk * w[w2 + k];
                    acc3 += xk * w[w3 + k];
                }

                accumulators[c] = acc0;
                accumulators[c + 1] = acc1;
                accumulators[c + 2] = acc2;
                accumulators[c + 3] = acc3;
            }

            for (; c < channels; c++)
            {
                int wc = c * depth;
                int acc = foldedBias[c];
                int k = 0;
                for (; k < depthUnrolled; k += 4)
                {
                    acc += (input[x + k] * w[wc + k]) + (input[x + k + 1] * w[wc + k + 1]) + (input[x + k + 2] * w[wc + k + 2]) + (input[x + k + 3] * w[wc + k + 3]);
                }

                for (; k < depth; k++)
                {
                    acc += input[x + k] * w[wc + k];
                }

                accumulators[c] = acc;
            }

            OutputRequantizer.RequantizeRow(accumulators, 0, output, outputOffset + (r * channels), 0, channels);
        }
    }
}
