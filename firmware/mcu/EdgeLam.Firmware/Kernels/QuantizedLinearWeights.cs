using EdgeLam.Firmware.Quantization;

namespace EdgeLam.Firmware.Kernels;

/// <summary>
/// An int8 linear layer y = x·Wᵀ + b: weights row-major [Out, In] (a row is one output channel), int8 symmetric
/// per-output-channel (zero point 0), bias int32 at scale InputScale · WeightScales[c] (TFLite / CMSIS-NN scheme).
/// An optional block mask marks pruned weight blocks for the structured-sparse kernels.
/// </summary>
public sealed class QuantizedLinearWeights
{
    /// <summary>Checks that the arrays match the shape and the scales are positive.</summary>
    public QuantizedLinearWeights(int inFeatures, int outFeatures, sbyte[] weights, int[] bias, float[] weightScales)
    {
        if (inFeatures <= 0 || outFeatures <= 0)
        {
            throw new System.ArgumentOutOfRangeException(nameof(inFeatures), "A linear layer needs positive In and Out, got In=" + inFeatures.ToString() + " Out=" + outFeatures.ToString() + ".");
        }

        if (weights == null || bias == null || weightScales == null)
        {
            throw new System.ArgumentNullException(weights == null ? nameof(weights) : bias == null ? nameof(bias) : nameof(weightScales));
        }

        if (weights.Length != inFeatures * outFeatures)
        {
            throw new System.ArgumentException("Weights must hold Out·In = " + (inFeatures * outFeatures).ToString() + " values, got " + weights.Length.ToString() + ".", nameof(weights));
        }

        if (bias.Length != outFeatures)
        {
            throw new System.ArgumentException("Bias must hold Out = " + outFeatures.ToString() + " values, got " + bias.Length.ToString() + ".", nameof(bias));
        }

        if (weightScales.Length != outFeatures && weightScales.Length != 1)
        {
            throw new System.ArgumentException("Weight scales must be one per output channel (" + outFeatures.ToString() + ") or one per tensor, got " + weightScales.Length.ToString() + ".", nameof(weightScales));
        }

        for (int c = 0; c < weightScales.Length; c++)
        {
            if (!(weightScales[c] > 0) || float.IsInfinity(weightScales[c]))
            {
                throw new System.ArgumentOutOfRangeException(nameof(weightScales), "Weight scale of channel " + c.ToString() + " must be positive and finite, got " + weightScales[c].ToString() + ".");
            }
        }

        In = inFeatures;
        Out = outFeatures;
        Weights = weights;
        Bias = bias;
        WeightScales = weightScales;
    }

    /// <summary>Input features (columns of W).</summary>
    public int In { get; }

    /// <summary>Output channels (rows of W).</summary>
    public int Out { get; }

    /// <summary>int8 weights, row-major [Out, In].</summary>
    public sbyte[] Weights { get; }

    /// <summary>int32 bias per output channel, at scale input scale · weight scale of the channel.</summary>
    public int[] Bias { get; }

    /// <summary>Per-output-channel (or single per-tensor) weight scales.</summary>
    public float[] WeightScales { get; }

    /// <summary>Pruned blocks, or null for a dense layer.</summary>
    public StructuredSparsityMask? Sparsity { get; private set; }

    /// <summary>
    /// Quantizes a float layer: per-channel scale max|W[c,:]|/127 (symmetric, zero point 0), weights rounded half to
    /// even, bias rounded to int32 at inputScale · weightScale[c]. An all-zero row gets scale 1.
    /// </summary>
    public static QuantizedLinearWeights Quantize(int inFeatures, int outFeatures, float[] weights, float[] bias, float inputScale)
    {
        if (weights == null || bias == null)
        {
            throw new System.ArgumentNullException(weights == null ? nameof(weights) : nameof(bias));
        }

        if (weights.Length != inFeatures * outFeatures || bias.Length != outFeatures)
        {
            throw new System.ArgumentException("Float weights must be [Out, In] = [" + outFeatures.ToString() + ", " + inFeatures.ToString() + "] and bias [Out]; got " + weights.Length.ToString() + " and " + bias.Length.ToString() + " values.", nameof(weights));
        }

        if (!(inputScale > 0))
        {
            throw new System.ArgumentOutOfRangeException(nameof(inputScale), "The input scale must be positive, got " + inputScale.ToString() + ".");
        }

        var quantized = new sbyte[weights.Length];
        var quantizedBias = new int[outFeatures];
        var scales = new float[outFeatures];
        for (int c = 0; c < outFeatures; c++)
        {
            double largest = 0;
            for (int k = 0; k < inFeatures; k++)
            {
                double magnitude = PortableMath.Abs(weights[(c * inFeatures) + k]);
                largest = magnitude > largest ? magnitude : largest;
            }

            float scale = largest > 0 ? (float)(largest / 127.0) : 1f;
            scales[c] = scale;
            for (int k = 0; k < inFeatures; k++)
            {
                long code = FloatingPointBits.RoundHalfToEven(weights[(c * inFeatures) + k] / (double)scale);
                quantized[(c * inFeatures) + k] = FixedPointArithmetic.SaturateToInt8(code);
            }

            double biasScale = (double)inputScale * scale;
            double biasCode = bias[c] / biasScale;
            quantizedBias[c] = biasCode > int.MaxValue ? int.MaxValue : biasCode < int.MinValue ? int.MinValue : (int)FloatingPointBits.RoundHalfToEven(biasCode);
        }

        return new QuantizedLinearWeights(inFeatures, outFeatures, quantized, quantizedBias, scales);
    }

    /// <summary>Attaches a block mask and zeroes the weights of its pruned blocks, so dense and sparse kernels agree.</summary>
    public void ApplySparsity(StructuredSparsityMask mask)
    {
        if (mask == null)
        {
            throw new System.ArgumentNullException(nameof(mask));
        }

        if (mask.Out != Out || mask.In != In)
        {
            throw new System.ArgumentException("The block mask is for [" + mask.Out.ToString() + ", " + mask.In.ToString() + "] but the layer is [" + Out.ToString() + ", " + In.ToString() + "].", nameof(mask));
        }

        for (int c = 0; c < Out; c++)
        {
            for (int block = 0; block < mask.BlocksPerRow; block++)
            {
                if (mask.IsKept(c, block))
                {
                    continue;
                }

                int start = mask.BlockStart(block);
                int end = mask.BlockEnd(block);
                for (int k = start; k < end; k++)
                {
                    Weights[(c * In) + k] = 0;
                }
            }
        }

        Sparsity = mask;
    }

    /// <summary>Weights of a channel at an input index.</summary>
    public sbyte WeightAt(int channel, int input)
    {
        return Weights[(channel * In) + input];
    }
}
