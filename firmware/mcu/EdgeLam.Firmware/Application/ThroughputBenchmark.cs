using EdgeLam.Firmware.Kernels;
using EdgeLam.Firmware.Quantization;

namespace EdgeLam.Firmware.Application;

/// <summary>
/// Measures the int8 MAC/s this board sustains with the optimized linear kernel on the encoder's MLP shape
/// ([16 tokens, 64] × [64, 128], deterministic pseudo-random codes), so the device can announce a measured figure in
/// its hello instead of the board profile's estimate (WIRE.md: macsPerSecond is "from the board profile or measured").
/// </summary>
public static class ThroughputBenchmark
{
    /// <summary>Rows of the benchmark layer (tokens of one image).</summary>
    public const int Rows = 16;

    /// <summary>Input features of the benchmark layer.</summary>
    public const int InFeatures = 64;

    /// <summary>Output features of the benchmark layer.</summary>
    public const int OutFeatures = 128;

    /// <summary>Runs the kernel until at least minimumMilliseconds have passed on the clock; returns MAC/s.</summary>
    public static double MeasureMultiplyAccumulatesPerSecond(IClock clock, int minimumMilliseconds)
    {
        if (clock == null)
        {
            throw new System.ArgumentNullException(nameof(clock));
        }

        if (minimumMilliseconds < 1)
        {
            throw new System.ArgumentOutOfRangeException(nameof(minimumMilliseconds), "The benchmark needs at least 1 ms, got " + minimumMilliseconds.ToString() + ".");
        }

        var weights = new sbyte[InFeatures * OutFeatures];
        var bias = new int[OutFeatures];
        var scales = new float[OutFeatures];
        var input = new sbyte[Rows * InFeatures];
        uint state = 2463534242;
        for (int i = 0; i < weights.Length; i++)
        {
            state = NextState(state);
            weights[i] = (sbyte)(int)(state & 0xFF);
        }

        for (int i = 0; i < input.Length; i++)
        {
            state = NextState(state);
            input[i] = (sbyte)(int)(state & 0xFF);
        }

        for (int c = 0; c < OutFeatures; c++)
        {
            scales[c] = 0.01f;
        }

        var kernel = new OptimizedInt8LinearKernel();
        kernel.Prepare(new QuantizedLinearWeights(InFeatures, OutFeatures, weights, bias, scales), new QuantizationParameters(0.05f, 3), new QuantizationParameters(0.5f, -2), RequantizationMode.FixedPoint);
        var output = new sbyte[Rows * OutFeatures];
        kernel.Eval(input, 0, Rows, output, 0);
        long started = clock.MonotonicMilliseconds;
        long elapsed = 0;
        long runs = 0;
        while (elapsed < minimumMilliseconds)
        {
            kernel.Eval(input, 0, Rows, output, 0);
            runs++;
            elapsed = clock.MonotonicMilliseconds - started;
        }

        return (double)runs * Rows * InFeatures * OutFeatures * 1000.0 / elapsed;
    }

    private static uint NextState(uint state)
    {
        // xorshift32 (Marsaglia 2003): deterministic codes without System.Random.
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        return state;
    }
}
