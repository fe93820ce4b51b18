using EdgeLam.Model.Architecture;

namespace EdgeLam.Model.Lora;

/// <summary>
/// A low-rank update of one projection (Hu et al. 2021, LoRA): W' = W + (alpha/r)·B·A with
/// A [Rank, In] and B [Out, Rank], both row-major. B starts at zero so an untrained adapter changes nothing.
/// </summary>
public sealed class LoraAdapter
{
    public LoraAdapter(int layer, string projection, int inFeatures, int outFeatures, int rank, float alpha)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(rank);
        if (!LoraProjections.All.Contains(projection))
            throw new ArgumentException($"Unknown projection '{projection}'; expected one of {string.Join(", ", LoraProjections.All)}.", nameof(projection));
        Layer = layer;
        Projection = projection;
        In = inFeatures;
        Out = outFeatures;
        Rank = rank;
        Alpha = alpha;
        A = new float[rank * inFeatures];
        B = new float[outFeatures * rank];
    }

    public int Layer { get; }
    public string Projection { get; }
    public int In { get; }
    public int Out { get; }
    public int Rank { get; }
    public float Alpha { get; }
    /// <summary>alpha / r, the factor in front of B·A.</summary>
    public float Scaling => Alpha / Rank;
    /// <summary>Down-projection [Rank, In].</summary>
    public float[] A { get; }
    /// <summary>Up-projection [Out, Rank].</summary>
    public float[] B { get; }

    public string NameA => $"blocks.{Layer}.{Projection}.A";
    public string NameB => $"blocks.{Layer}.{Projection}.B";
    public int ParameterCount => A.Length + B.Length;

    /// <summary>Same shape, all factors zero (a gradient or accumulator buffer).</summary>
    public LoraAdapter CloneEmpty() => new(Layer, Projection, In, Out, Rank, Alpha);

    public LoraAdapter Clone()
    {
        LoraAdapter copy = CloneEmpty();
        A.CopyTo(copy.A, 0);
        B.CopyTo(copy.B, 0);
        return copy;
    }

    /// <summary>
    /// output += Scaling·(input·Aᵀ)·Bᵀ. <paramref name="lowRank"/> [rows, Rank] receives input·Aᵀ for the backward pass.
    /// </summary>
    public void Forward(ReadOnlySpan<float> input, int rows, Span<float> output, Span<float> lowRank)
    {
        MatrixKernels.MultiplyTransposedB(input, A, lowRank, rows, In, Rank);
        Span<float> scaled = new float[rows * Rank];
        System.Numerics.Tensors.TensorPrimitives.Multiply(lowRank[..(rows * Rank)], Scaling, scaled);
        MatrixKernels.MultiplyTransposedB(scaled, B, output, rows, Rank, Out, accumulate: true);
    }

    /// <summary>Adds dL/dinput (when not empty) and, when <paramref name="gradient"/> is given, dL/dA and dL/dB.</summary>
    public void Backward(
        ReadOnlySpan<float> input, ReadOnlySpan<float> lowRank, ReadOnlySpan<float> outputGradient, int rows,
        Span<float> inputGradient, LoraAdapter? gradient)
    {
        var lowRankGradient = new float[rows * Rank];
        // du = s·dy·B, [rows, Rank]
        MatrixKernels.Multiply(outputGradient, B, lowRankGradient, rows, Out, Rank);
        System.Numerics.Tensors.TensorPrimitives.Multiply(lowRankGradient, Scaling, lowRankGradient);
        if (gradient is not null)
        {
            // dB = s·dyᵀ·u, dA = duᵀ·x
            var scaledLowRank = new float[rows * Rank];
            System.Numerics.Tensors.TensorPrimitives.Multiply(lowRank[..(rows * Rank)], Scaling, scaledLowRank);
            MatrixKernels.MultiplyTransposedA(outputGradient, scaledLowRank, gradient.B, rows, Out, Rank, accumulate: true);
            MatrixKernels.MultiplyTransposedA(lowRankGradient, input, gradient.A, rows, Rank, In, accumulate: true);
        }
        if (!inputGradient.IsEmpty)
            MatrixKernels.Multiply(lowRankGradient, A, inputGradient, rows, Rank, In, accumulate: true);
    }

    /// <summary>The dense update Scaling·B·A as [Out, In].</summary>
    public float[] DeltaWeight()
    {
        var delta = new float[Out * In];
        MatrixKernels.Multiply(B, A, delta, Out, Rank, In);
        System.Numerics.Tensors.TensorPrimitives.Multiply(delta, Scaling, delta);
        return delta;
    }
}

/// <summary>The projection names of an encoder block, in their stable order.</summary>
public static class LoraProjections
{
    public const string Query = "q";
    public const string Key = "k";
    public const string Value = "v";
    public const string Output = "o";
    public const string Fc1 = "fc1";
    public const string Fc2 = "fc2";

    public static readonly IReadOnlyList<string> All = [Query, Key, Value, Output, Fc1, Fc2];
    public static readonly IReadOnlyList<string> Attention = [Query, Key, Value, Output];

    public static int IndexOf(string projection)
    {
        for (int i = 0; i < All.Count; i++)
        {
            if (All[i] == projection)
                return i;
        }
        throw new ArgumentException($"Unknown projection '{projection}'; expected one of {string.Join(", ", All)}.", nameof(projection));
    }

    public static LinearWeights Select(EncoderBlockWeights block, string projection) => projection switch
    {
        Query => block.Query,
        Key => block.Key,
        Value => block.Value,
        Output => block.Output,
        Fc1 => block.Fc1,
        Fc2 => block.Fc2,
        _ => throw new ArgumentException($"Unknown projection '{projection}'.", nameof(projection)),
    };
}
