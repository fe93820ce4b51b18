using EdgeLam.Firmware.Quantization;

namespace EdgeLam.Firmware.Kernels;

/// <summary>Shared Prepare bookkeeping and Eval argument checks of the int8 linear kernels.</summary>
public abstract class Int8LinearKernelBase : IInt8LinearKernel
{
    private QuantizedLinearWeights? layer;
    private Requantizer? outputRequantizer;

    /// <inheritdoc />
    public abstract string Name { get; }

    /// <inheritdoc />
    public virtual int ScratchInt32Count => 0;

    /// <summary>The prepared layer.</summary>
    protected QuantizedLinearWeights Layer => layer ?? throw new System.InvalidOperationException(Name + " kernel: Eval before Prepare.");

    /// <summary>The prepared requantizer.</summary>
    protected Requantizer OutputRequantizer => outputRequantizer ?? throw new System.InvalidOperationException(Name + " kernel: Eval before Prepare.");

    /// <summary>Zero point of the input activations.</summary>
    protected int InputZeroPoint { get; private set; }

    /// <inheritdoc />
    public void Prepare(QuantizedLinearWeights weights, QuantizationParameters input, QuantizationParameters output, RequantizationMode mode)
    {
        if (weights == null || input == null || output == null)
        {
            throw new System.ArgumentNullException(weights == null ? nameof(weights) : input == null ? nameof(input) : nameof(output));
        }

        outputRequantizer = Requantizer.Create(mode, input.Scale, weights.WeightScales, output);
        InputZeroPoint = input.ZeroPoint;
        layer = weights;
        PrepareVariant(weights);
    }

    /// <inheritdoc />
    public void Eval(sbyte[] input, int inputOffset, int rows, sbyte[] output, int outputOffset)
    {
        QuantizedLinearWeights weights = Layer;
        KernelArguments.CheckTensor(input, inputOffset, rows, weights.In, nameof(input));
        KernelArguments.CheckTensor(output, outputOffset, rows, weights.Out, nameof(output));
        EvalVariant(input, inputOffset, rows, output, outputOffset);
    }

    /// <summary>Variant-specific precomputation.</summary>
    protected abstract void PrepareVariant(QuantizedLinearWeights weights);

    /// <summary>Variant-specific hot path; arguments are already checked.</summary>
    protected abstract void EvalVariant(sbyte[] input, int inputOffset, int rows, sbyte[] output, int outputOffset);
}
