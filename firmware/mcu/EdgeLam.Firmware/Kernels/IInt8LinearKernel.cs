using EdgeLam.Firmware.Quantization;

namespace EdgeLam.Firmware.Kernels;

/// <summary>
/// An int8 fully connected kernel with the TensorFlow Lite Micro lifecycle: Prepare validates the layer and
/// precomputes everything (requantization multipliers, folded bias, packed weights, scratch), Eval is the
/// allocation-free hot path over rows of int8 activations [rows, In] → [rows, Out]. Every implementation gives
/// bit-identical results (checked by KernelConformanceTests). With <see cref="RequantizationMode.OnnxRuntimeCompatible"/>
/// the output equals ONNX Runtime's CPU QLinearMatMul (no bias) and com.microsoft QGemm (int32 bias, transB=1) byte for
/// byte, per-tensor or per-column weight scales (see <see cref="OnnxRuntimeCompatibleRequantizer"/>); with
/// <see cref="RequantizationMode.FixedPoint"/> it is TFLite / CMSIS-NN's gemmlowp requantization.
/// </summary>
public interface IInt8LinearKernel
{
    /// <summary>Stable name of the variant, for benchmarks and logs.</summary>
    string Name { get; }

    /// <summary>int32 scratch words the kernel reserved at Prepare (0 before Prepare).</summary>
    int ScratchInt32Count { get; }

    /// <summary>Validates and precomputes; the only place a kernel allocates.</summary>
    void Prepare(QuantizedLinearWeights weights, QuantizationParameters input, QuantizationParameters output, RequantizationMode mode);

    /// <summary>Computes rows of output[rows, Out] from input[rows, In] (row-major, starting at the offsets).</summary>
    void Eval(sbyte[] input, int inputOffset, int rows, sbyte[] output, int outputOffset);
}
