namespace EdgeLam.Gateway.Unlearning;

/// <summary>How a device's contribution is removed from the global adapters.</summary>
public enum UnlearningMethod
{
    /// <summary>Subtract the device's last weighted update from the global aggregate and renormalize (cheap, approximate).</summary>
    Subtract,

    /// <summary>Re-aggregate every stored round without the device (exact for the stored history, no device work); for FedFT-H, the remaining devices' changes added up.</summary>
    ExactRecompute,

    /// <summary>
    /// Exact recompute without the remaining devices' reaction to the device: each later round's mean change is projected
    /// off the column and row spaces of what the device had contributed before it (no device work; FedFT-H histories).
    /// </summary>
    Orthogonal,

    /// <summary>Exact recompute, then calibration rounds with the remaining devices (after FedEraser, Liu et al. 2021).</summary>
    Calibrated,
}

/// <summary>The names methods have in commands, configuration, the audit and results.</summary>
public static class UnlearningMethodNames
{
    public const string Subtract = "subtract";
    public const string ExactRecompute = "exact_recompute";
    public const string Orthogonal = "orthogonal";
    public const string Calibrated = "calibrated";

    public static IReadOnlyList<string> All { get; } = [Subtract, ExactRecompute, Orthogonal, Calibrated];

    public static string NameOf(UnlearningMethod method) => method switch
    {
        UnlearningMethod.Subtract => Subtract,
        UnlearningMethod.ExactRecompute => ExactRecompute,
        UnlearningMethod.Orthogonal => Orthogonal,
        UnlearningMethod.Calibrated => Calibrated,
        _ => throw new ArgumentOutOfRangeException(nameof(method), method, "Unknown unlearning method."),
    };

    public static bool TryParse(string? name, out UnlearningMethod method)
    {
        switch (name)
        {
            case Subtract: method = UnlearningMethod.Subtract; return true;
            case ExactRecompute: method = UnlearningMethod.ExactRecompute; return true;
            case Orthogonal: method = UnlearningMethod.Orthogonal; return true;
            case Calibrated: method = UnlearningMethod.Calibrated; return true;
            default: method = default; return false;
        }
    }

    /// <summary>The method of a name, or an <see cref="ArgumentException"/> listing the valid names.</summary>
    public static UnlearningMethod Parse(string? name) => TryParse(name, out var method)
        ? method
        : throw new ArgumentException($"Unknown unlearning method '{name}'; expected one of {string.Join(", ", All)}.", nameof(name));
}
