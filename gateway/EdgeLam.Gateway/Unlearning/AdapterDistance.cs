using EdgeLam.Gateway.Training;

namespace EdgeLam.Gateway.Unlearning;

/// <summary>Frobenius distances between the updates two global states apply to the base model.</summary>
public static class AdapterDistance
{
    /// <summary>‖Δ(a) − Δ(b)‖_F over every adapted projection (dense Scale·B·A) and full-weight tensor; a missing entry counts as zero.</summary>
    public static double Frobenius(ModelParameters a, ModelParameters b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        double sum = 0;
        foreach (var name in a.Adapters.Keys.Union(b.Adapters.Keys, StringComparer.Ordinal))
        {
            var left = a.Adapters.TryGetValue(name, out var fa) ? fa.ToDenseDelta() : null;
            var right = b.Adapters.TryGetValue(name, out var fb) ? fb.ToDenseDelta() : null;
            sum += SquaredDifference(left, right);
        }
        foreach (var name in a.FullWeights.Keys.Union(b.FullWeights.Keys, StringComparer.Ordinal))
            sum += SquaredDifference(a.FullWeights.GetValueOrDefault(name), b.FullWeights.GetValueOrDefault(name));
        return Math.Sqrt(sum);
    }

    /// <summary>‖Δ(a)‖_F.</summary>
    public static double Norm(ModelParameters parameters) => Frobenius(parameters, ModelParameters.Empty);

    /// <summary>‖Δ(a) − Δ(reference)‖_F / ‖Δ(reference)‖_F (the absolute distance when the reference is zero).</summary>
    public static double Relative(ModelParameters a, ModelParameters reference)
    {
        var norm = Norm(reference);
        var distance = Frobenius(a, reference);
        return norm == 0 ? distance : distance / norm;
    }

    /// <summary>Largest absolute entry of Δ(a) − Δ(b), for exactness checks.</summary>
    public static double MaximumAbsoluteDifference(ModelParameters a, ModelParameters b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        double maximum = 0;
        foreach (var name in a.Adapters.Keys.Union(b.Adapters.Keys, StringComparer.Ordinal))
        {
            var left = a.Adapters.TryGetValue(name, out var fa) ? fa.ToDenseDelta() : null;
            var right = b.Adapters.TryGetValue(name, out var fb) ? fb.ToDenseDelta() : null;
            var length = Math.Max(left?.Length ?? 0, right?.Length ?? 0);
            for (var i = 0; i < length; i++)
                maximum = Math.Max(maximum, Math.Abs((double)(left?[i] ?? 0) - (right?[i] ?? 0)));
        }
        return maximum;
    }

    private static double SquaredDifference(float[]? left, float[]? right)
    {
        var length = Math.Max(left?.Length ?? 0, right?.Length ?? 0);
        double sum = 0;
        for (var i = 0; i < length; i++)
        {
            var d = (double)(left is not null && i < left.Length ? left[i] : 0) - (right is not null && i < right.Length ? right[i] : 0);
            sum += d * d;
        }
        return sum;
    }
}
