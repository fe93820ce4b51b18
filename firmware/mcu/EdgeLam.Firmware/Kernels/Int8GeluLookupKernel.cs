using EdgeLam.Firmware.Quantization;

namespace EdgeLam.Firmware.Kernels;

/// <summary>
/// int8 GELU as a 256-entry lookup table, the way TFLite Micro's int8 GELU and CMSIS-NN's LUT activations work:
/// Prepare evaluates the exact GELU x·Φ(x) (erf-based, PortableMath) at every input code and quantizes it to the
/// output scale; Eval is one table read per element, integer-only. Error is at most half an output step plus the
/// erf approximation (below 1e-11).
/// </summary>
public sealed class Int8GeluLookupKernel
{
    private readonly sbyte[] table = new sbyte[256];
    private bool prepared;

    /// <summary>Builds the table for the given input and output quantization.</summary>
    public void Prepare(QuantizationParameters input, QuantizationParameters output)
    {
        if (input == null || output == null)
        {
            throw new System.ArgumentNullException(input == null ? nameof(input) : nameof(output));
        }

        for (int code = FixedPointArithmetic.Int8Minimum; code <= FixedPointArithmetic.Int8Maximum; code++)
        {
            double real = (code - input.ZeroPoint) * (double)input.Scale;
            double scaled = PortableMath.Gelu(real) / output.Scale;
            long rounded = scaled > 1e6 ? 1000000 : scaled < -1e6 ? -1000000 : FloatingPointBits.RoundHalfToEven(scaled);
            table[code + 128] = FixedPointArithmetic.SaturateToInt8(rounded + output.ZeroPoint);
        }

        prepared = true;
    }

    /// <summary>The table entry of an input code (for inspection and tests).</summary>
    public sbyte Lookup(sbyte input)
    {
        return table[input + 128];
    }

    /// <summary>Applies GELU to count elements.</summary>
    public void Eval(sbyte[] input, int inputOffset, sbyte[] output, int outputOffset, int count)
    {
        if (!prepared)
        {
            throw new System.InvalidOperationException("GELU kernel: Eval before Prepare.");
        }

        KernelArguments.CheckTensor(input, inputOffset, 1, count, nameof(input));
        KernelArguments.CheckTensor(output, outputOffset, 1, count, nameof(output));
        for (int i = 0; i < count; i++)
        {
            output[outputOffset + i] = table[input[inputOffset + i] + 128];
        }
    }
}
