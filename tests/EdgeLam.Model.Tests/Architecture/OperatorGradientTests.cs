using EdgeLam.Model.Architecture;
using static EdgeLam.Model.Tests.Architecture.GradientCheck;

namespace EdgeLam.Model.Tests.Architecture;

public sealed class OperatorGradientTests
{
    [Fact]
    public void Linear_gradients_match_finite_differences()
    {
        const int rows = 3;
        var weights = new LinearWeights(5, 4);
        RandomArray(20, 1, 0.5).CopyTo(weights.W, 0);
        RandomArray(4, 2, 0.5).CopyTo(weights.B, 0);
        float[] input = RandomArray(rows * 5, 3);
        float[] outputWeights = RandomArray(rows * 4, 4);
        double Loss()
        {
            var output = new float[rows * 4];
            LinearOperator.Forward(weights, input, rows, output);
            return WeightedSum(output, outputWeights);
        }

        var inputGradient = new float[rows * 5];
        var gradient = new LinearWeights(5, 4);
        LinearOperator.Backward(weights, input, outputWeights, rows, inputGradient, gradient);
        Verify("x", input, inputGradient, Loss);
        Verify("W", weights.W, gradient.W, Loss);
        Verify("b", weights.B, gradient.B, Loss);
    }

    [Fact]
    public void LayerNorm_gradients_match_finite_differences()
    {
        const int rows = 3, dim = 6;
        var weights = new LayerNormWeights(dim);
        RandomArray(dim, 5, 0.3).Select(v => 1 + v).ToArray().CopyTo(weights.Gamma, 0);
        RandomArray(dim, 6, 0.3).CopyTo(weights.Beta, 0);
        float[] input = RandomArray(rows * dim, 7, 2.0);
        float[] outputWeights = RandomArray(rows * dim, 8);
        double Loss()
        {
            var output = new float[rows * dim];
            LayerNormOperator.Forward(weights, input, rows, output);
            return WeightedSum(output, outputWeights);
        }

        var normalized = new float[rows * dim];
        var inverse = new float[rows];
        LayerNormOperator.Forward(weights, input, rows, new float[rows * dim], normalized, inverse);
        var inputGradient = new float[rows * dim];
        var gradient = new LayerNormWeights(dim);
        Array.Clear(gradient.Gamma);
        LayerNormOperator.Backward(weights, normalized, inverse, outputWeights, rows, inputGradient, gradient);
        Verify("x", input, inputGradient, Loss, epsilon: 3e-3f);
        Verify("gamma", weights.Gamma, gradient.Gamma, Loss);
        Verify("beta", weights.Beta, gradient.Beta, Loss);
    }

    [Fact]
    public void Attention_gradients_match_finite_differences()
    {
        const int images = 2, tokens = 3, heads = 2, headDim = 3, dim = heads * headDim;
        int size = images * tokens * dim;
        float[] query = RandomArray(size, 9), key = RandomArray(size, 10), value = RandomArray(size, 11);
        float[] outputWeights = RandomArray(size, 12);
        double Loss()
        {
            var output = new float[size];
            MultiHeadAttention.Forward(query, key, value, images, tokens, heads, headDim, new float[images * heads * tokens * tokens], output);
            return WeightedSum(output, outputWeights);
        }

        var probabilities = new float[images * heads * tokens * tokens];
        MultiHeadAttention.Forward(query, key, value, images, tokens, heads, headDim, probabilities, new float[size]);
        float[] dq = new float[size], dk = new float[size], dv = new float[size];
        MultiHeadAttention.Backward(query, key, value, probabilities, outputWeights, images, tokens, heads, headDim, dq, dk, dv);
        Verify("q", query, dq, Loss, epsilon: 3e-3f);
        Verify("k", key, dk, Loss, epsilon: 3e-3f);
        Verify("v", value, dv, Loss, epsilon: 3e-3f);
    }

    [Fact]
    public void Attention_heads_are_contiguous_slices_and_rows_sum_to_one()
    {
        const int tokens = 4, heads = 2, headDim = 2, dim = 4;
        float[] query = RandomArray(tokens * dim, 13), key = RandomArray(tokens * dim, 14), value = RandomArray(tokens * dim, 15);
        var probabilities = new float[heads * tokens * tokens];
        var output = new float[tokens * dim];
        MultiHeadAttention.Forward(query, key, value, 1, tokens, heads, headDim, probabilities, output);
        for (int row = 0; row < heads * tokens; row++)
            Assert.Equal(1.0, probabilities.AsSpan(row * tokens, tokens).ToArray().Sum(), 5);

        // Head 1, token 0, computed by hand from the slice [2, 4) of each token.
        var scores = Enumerable.Range(0, tokens).Select(s => ((query[2] * key[(s * dim) + 2]) + (query[3] * key[(s * dim) + 3])) / MathF.Sqrt(2)).ToArray();
        var exp = scores.Select(s => Math.Exp(s - scores.Max())).ToArray();
        double expected = Enumerable.Range(0, tokens).Sum(s => exp[s] / exp.Sum() * value[(s * dim) + 2]);
        Assert.Equal(expected, output[2], 5);
    }

    [Fact]
    public void Gelu_derivative_matches_finite_differences()
    {
        float[] input = Enumerable.Range(-40, 81).Select(i => i * 0.1f + 0.013f).ToArray();
        var gradient = new float[input.Length];
        Gelu.Backward(input, Enumerable.Repeat(1f, input.Length).ToArray(), gradient);
        for (int i = 0; i < input.Length; i++)
        {
            double x = input[i], h = 1e-4;
            double numeric = (ExactGelu(x + h) - ExactGelu(x - h)) / (2 * h);
            Assert.True(Math.Abs(gradient[i] - numeric) < 1e-5, $"GELU'({x}) = {gradient[i]}, numeric {numeric}");
        }
    }

    [Fact]
    public void Erf_error_is_below_1e_7()
    {
        double worst = 0;
        for (int i = -6000; i <= 6000; i++)
        {
            double x = i / 1000.0;
            worst = Math.Max(worst, Math.Abs(Gelu.Erf(x) - ReferenceErf(x)));
        }
        Assert.True(worst < 1e-7, $"worst erf error {worst:G3}");
        Assert.Equal(0.0, Gelu.Apply(0f));
        Assert.Equal(0.8413447460685429, Gelu.Apply(1f), 6);
    }

    [Fact]
    public void Vectorized_gelu_equals_the_scalar_gelu()
    {
        float[] input = GradientCheck.RandomArray(1003, 17, 3.0);
        var output = new float[input.Length];
        Gelu.Forward(input, output);
        for (int i = 0; i < input.Length; i++)
            Assert.Equal(Gelu.Apply(input[i]), output[i]);
    }

    private static double ExactGelu(double x) => 0.5 * x * (1 + ReferenceErf(x / Math.Sqrt(2)));

    /// <summary>erf(x) = 2/√π·e^(−x²)·Σ 2ⁿx^(2n+1)/(1·3···(2n+1)) (all terms positive, no cancellation).</summary>
    private static double ReferenceErf(double x)
    {
        if (Math.Abs(x) > 6)
            return Math.Sign(x);
        double term = x, sum = x;
        for (int n = 1; n < 200; n++)
        {
            term *= 2 * x * x / ((2 * n) + 1);
            sum += term;
            if (Math.Abs(term) < 1e-17 * Math.Abs(sum))
                break;
        }
        return 2 / Math.Sqrt(Math.PI) * Math.Exp(-x * x) * sum;
    }
}
