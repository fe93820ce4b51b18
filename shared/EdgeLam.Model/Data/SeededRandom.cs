namespace EdgeLam.Model.Data;

/// <summary>
/// A small random generator whose sequence is fixed by this code alone (SplitMix64, Steele et al. 2014),
/// so splits and initializations are identical across .NET versions and machines.
/// </summary>
public sealed class SeededRandom
{
    private ulong _state;

    public SeededRandom(long seed) => _state = unchecked((ulong)seed);

    /// <summary>A generator for an independent stream derived from a seed and a stream name.</summary>
    public static SeededRandom ForStream(long seed, string stream)
    {
        // FNV-1a over the stream name keeps derived streams stable and distinct.
        ulong hash = 14695981039346656037UL;
        foreach (char character in stream)
        {
            hash ^= character;
            hash = unchecked(hash * 1099511628211UL);
        }
        return new SeededRandom(unchecked((long)(hash ^ Mix(unchecked((ulong)seed)))));
    }

    public ulong NextUInt64()
    {
        _state = unchecked(_state + 0x9E3779B97F4A7C15UL);
        return Mix(_state);
    }

    private static ulong Mix(ulong z)
    {
        z = unchecked((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL);
        z = unchecked((z ^ (z >> 27)) * 0x94D049BB133111EBUL);
        return z ^ (z >> 31);
    }

    /// <summary>Uniform in [0, 1) with 53 random bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform integer in [0, exclusiveMax), unbiased by rejection.</summary>
    public int NextInt(int exclusiveMax)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(exclusiveMax);
        ulong bound = (ulong)exclusiveMax;
        ulong limit = ulong.MaxValue - (ulong.MaxValue % bound);
        ulong value;
        do
        {
            value = NextUInt64();
        }
        while (value >= limit);
        return (int)(value % bound);
    }

    /// <summary>Standard normal sample (Marsaglia polar method).</summary>
    public double NextGaussian()
    {
        double u, v, s;
        do
        {
            u = (2.0 * NextDouble()) - 1.0;
            v = (2.0 * NextDouble()) - 1.0;
            s = (u * u) + (v * v);
        }
        while (s >= 1.0 || s == 0.0);
        return u * Math.Sqrt(-2.0 * Math.Log(s) / s);
    }

    /// <summary>Gamma(shape, 1) sample (Marsaglia and Tsang 2000, with the shape &lt; 1 boost U^(1/shape)).</summary>
    public double NextGamma(double shape)
    {
        if (!(shape > 0) || double.IsInfinity(shape))
            throw new ArgumentOutOfRangeException(nameof(shape), shape, "Gamma shape must be a positive finite number.");
        if (shape < 1.0)
        {
            double boosted = NextGamma(shape + 1.0);
            double uniform;
            do
            {
                uniform = NextDouble();
            }
            while (uniform == 0.0);
            return boosted * Math.Pow(uniform, 1.0 / shape);
        }

        double d = shape - (1.0 / 3.0);
        double c = 1.0 / Math.Sqrt(9.0 * d);
        while (true)
        {
            double x, v;
            do
            {
                x = NextGaussian();
                v = 1.0 + (c * x);
            }
            while (v <= 0.0);
            v = v * v * v;
            double u = NextDouble();
            if (u < 1.0 - (0.0331 * x * x * x * x))
                return d * v;
            if (u > 0.0 && Math.Log(u) < (0.5 * x * x) + (d * (1.0 - v + Math.Log(v))))
                return d * v;
        }
    }

    /// <summary>Dirichlet(alpha, ..., alpha) sample of the given dimension, via normalized Gamma draws.</summary>
    public double[] NextSymmetricDirichlet(int dimension, double alpha)
    {
        var sample = new double[dimension];
        double total = 0;
        for (int i = 0; i < dimension; i++)
        {
            sample[i] = NextGamma(alpha);
            total += sample[i];
        }
        if (total == 0)
        {
            // Every draw underflowed (tiny alpha): all mass on one uniformly chosen component.
            sample[NextInt(dimension)] = 1.0;
            return sample;
        }
        for (int i = 0; i < dimension; i++)
            sample[i] /= total;
        return sample;
    }

    /// <summary>Fisher–Yates shuffle in place.</summary>
    public void Shuffle<T>(Span<T> items)
    {
        for (int i = items.Length - 1; i > 0; i--)
        {
            int j = NextInt(i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }

    /// <summary>A random permutation of 0..count-1.</summary>
    public int[] Permutation(int count)
    {
        int[] order = Enumerable.Range(0, count).ToArray();
        Shuffle<int>(order);
        return order;
    }
}
