using EdgeLam.Firmware.Kernels;
using EdgeLam.Firmware.Quantization;

namespace EdgeLam.Firmware.Tests.Kernels;

/// <summary>One seeded random int8 linear problem: shapes, scales, zero points, data, optional pruned blocks.</summary>
internal sealed class LinearTestCase
{
    public required int Seed { get; init; }
    public required int Rows { get; init; }
    public required int In { get; init; }
    public required int Out { get; init; }
    public required sbyte[] Input { get; init; }
    public required sbyte[] Weights { get; init; }
    public required int[] Bias { get; init; }
    public required float[] WeightScales { get; init; }
    public required QuantizationParameters InputQuantization { get; init; }
    public required QuantizationParameters OutputQuantization { get; init; }
    public required string Regime { get; init; }
    public int SparsityBlockSize { get; init; }

    public static readonly IInt8LinearKernel[] NoKernels = [];

    /// <summary>All four kernel variants, freshly constructed.</summary>
    public static IInt8LinearKernel[] AllKernelVariants() =>
        [new ReferenceInt8LinearKernel(), new OptimizedInt8LinearKernel(), new ReferenceSparseInt8LinearKernel(), new OptimizedSparseInt8LinearKernel()];

    /// <summary>
    /// Regimes cycle with the seed: typical scales, saturating output scale, accumulators beyond 2^24 (float32
    /// rounding of the int32 accumulator matters), per-tensor weight scale, and pruned blocks / channels.
    /// </summary>
    public static LinearTestCase Generate(int seed, bool withBias)
    {
        var random = new Random(seed);
        var regime = (seed % 5) switch { 0 => "typical", 1 => "saturating", 2 => "large-accumulator", 3 => "per-tensor", _ => "pruned" };
        int rows = random.Next(1, 5);
        int inFeatures = regime == "large-accumulator" ? random.Next(1100, 1400) : random.Next(1, 70);
        int outFeatures = random.Next(1, 24);
        var input = new sbyte[rows * inFeatures];
        var weights = new sbyte[outFeatures * inFeatures];
        for (int i = 0; i < input.Length; i++)
            input[i] = regime == "large-accumulator" ? (sbyte)(random.Next(2) == 0 ? -128 : 127) : (sbyte)random.Next(-128, 128);
        for (int i = 0; i < weights.Length; i++)
            weights[i] = regime == "large-accumulator" ? (sbyte)(random.Next(2) == 0 ? -127 : 127) : (sbyte)random.Next(-127, 128);
        if (regime == "large-accumulator")
        {
            // Same-signed products so the sum really exceeds 2^24.
            for (int r = 0; r < rows; r++)
                for (int c = 0; c < outFeatures; c++)
                    for (int k = 0; k < inFeatures; k++)
                        if (r == 0) weights[c * inFeatures + k] = (sbyte)(input[k] < 0 ? -127 : 127);
        }

        var weightScaleCount = regime == "per-tensor" ? 1 : outFeatures;
        var weightScales = new float[weightScaleCount];
        for (int c = 0; c < weightScaleCount; c++)
            weightScales[c] = (float)Math.Pow(10, -3 + 2 * random.NextDouble());
        float inputScale = (float)Math.Pow(10, -3 + 3 * random.NextDouble());
        int inputZeroPoint = regime == "large-accumulator" ? 0 : random.Next(-128, 128);

        var bias = new int[outFeatures];
        if (withBias)
            for (int c = 0; c < outFeatures; c++)
                bias[c] = random.Next(8) == 0 ? random.Next(int.MinValue / 2, int.MaxValue / 2) : random.Next(-(1 << 20), 1 << 20);

        // Typical accumulator magnitude times the real multiplier, so outputs land around ±40 codes, then skewed.
        double typical = Math.Sqrt(inFeatures) * 70 * 70 * inputScale * weightScales[0];
        double skew = regime == "saturating" ? Math.Pow(10, -3 * random.NextDouble() - 1.5) : Math.Pow(10, 1.4 * random.NextDouble() - 0.7);
        if (regime == "large-accumulator") skew = Math.Pow(10, 1.5 + (random.NextDouble() * 1.5));
        float outputScale = (float)(typical / 40 * skew);
        int outputZeroPoint = random.Next(-128, 128);

        int blockSize = 0;
        if (regime == "pruned")
        {
            blockSize = random.Next(1, Math.Min(8, inFeatures) + 1);
            int blocksPerRow = (inFeatures + blockSize - 1) / blockSize;
            for (int c = 0; c < outFeatures; c++)
            {
                bool pruneChannel = random.Next(4) == 0;
                for (int b = 0; b < blocksPerRow; b++)
                {
                    if (!pruneChannel && random.Next(2) == 0) continue;
                    for (int k = b * blockSize; k < Math.Min(inFeatures, (b + 1) * blockSize); k++)
                        weights[c * inFeatures + k] = 0;
                }
            }
        }

        return new LinearTestCase
        {
            Seed = seed,
            Regime = regime,
            Rows = rows,
            In = inFeatures,
            Out = outFeatures,
            Input = input,
            Weights = weights,
            Bias = bias,
            WeightScales = weightScales,
            InputQuantization = new QuantizationParameters(inputScale, inputZeroPoint),
            OutputQuantization = new QuantizationParameters(outputScale, outputZeroPoint),
            SparsityBlockSize = blockSize == 0 ? Math.Min(4, inFeatures) : blockSize,
        };
    }

    /// <summary>The firmware layer, with a block mask of its all-zero blocks so the sparse kernels can run.</summary>
    public QuantizedLinearWeights Layer()
    {
        var layer = new QuantizedLinearWeights(In, Out, (sbyte[])Weights.Clone(), (int[])Bias.Clone(), (float[])WeightScales.Clone());
        layer.ApplySparsity(StructuredSparsityMask.FromZeroBlocks(layer, SparsityBlockSize));
        return layer;
    }

    /// <summary>Runs one kernel variant on this case.</summary>
    public sbyte[] RunFirmware(IInt8LinearKernel kernel, RequantizationMode mode)
    {
        kernel.Prepare(Layer(), InputQuantization, OutputQuantization, mode);
        var output = new sbyte[Rows * Out];
        kernel.Eval(Input, 0, Rows, output, 0);
        return output;
    }

    /// <summary>Exact int32 accumulators (bias included, wrapping like the kernels and ORT).</summary>
    public int[] Accumulators()
    {
        var accumulators = new int[Rows * Out];
        for (int r = 0; r < Rows; r++)
            for (int c = 0; c < Out; c++)
            {
                long sum = Bias[c];
                for (int k = 0; k < In; k++)
                    sum += (long)(Input[r * In + k] - InputQuantization.ZeroPoint) * Weights[c * In + k];
                accumulators[r * Out + c] = unchecked((int)sum);
            }
        return accumulators;
    }

    public override string ToString() =>
        $"seed {Seed} ({Regime}): rows {Rows}, In {In}, Out {Out}, s_in {InputQuantization.Scale:R} z_in {InputQuantization.ZeroPoint}, s_out {OutputQuantization.Scale:R} z_out {OutputQuantization.ZeroPoint}";
}
