using EdgeLam.Model.Data;

namespace EdgeLam.Model.Tests.Architecture;

/// <summary>Central finite differences against analytic gradients.</summary>
internal static class GradientCheck
{
    /// <summary>
    /// For up to <paramref name="maximumChecks"/> entries of <paramref name="parameter"/>, compares
    /// (loss(θ+ε) − loss(θ−ε)) / 2ε with the analytic gradient: |a − n| ≤ relative·max(|a|, |n|) + absolute.
    /// </summary>
    public static void Verify(string name, float[] parameter, float[] analytic, Func<double> loss,
        int maximumChecks = 48, float epsilon = 1e-2f, double relative = 1e-3, double absolute = 1e-4)
    {
        Assert.Equal(parameter.Length, analytic.Length);
        var random = new SeededRandom(parameter.Length);
        int[] indices = parameter.Length <= maximumChecks
            ? Enumerable.Range(0, parameter.Length).ToArray()
            : random.Permutation(parameter.Length)[..maximumChecks];
        foreach (int i in indices)
        {
            float original = parameter[i];
            parameter[i] = original + epsilon;
            double plus = loss();
            parameter[i] = original - epsilon;
            double minus = loss();
            parameter[i] = original;
            double numeric = (plus - minus) / (2.0 * (double)epsilon);
            double difference = Math.Abs(analytic[i] - numeric);
            double allowed = (relative * Math.Max(Math.Abs(analytic[i]), Math.Abs(numeric))) + absolute;
            Assert.True(difference <= allowed, $"{name}[{i}]: analytic {analytic[i]:G6}, numeric {numeric:G6}, difference {difference:G3} > {allowed:G3}");
        }
    }

    public static float[] RandomArray(int length, int seed, double scale = 1.0)
    {
        var random = new SeededRandom(seed);
        return Enumerable.Range(0, length).Select(_ => (float)(random.NextGaussian() * scale)).ToArray();
    }

    /// <summary>Σ weights·values in double: a scalar loss whose gradient with respect to values is the weights.</summary>
    public static double WeightedSum(ReadOnlySpan<float> values, ReadOnlySpan<float> weights)
    {
        double sum = 0;
        for (int i = 0; i < values.Length; i++)
            sum += (double)values[i] * weights[i];
        return sum;
    }
}
