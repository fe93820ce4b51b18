using System.Globalization;

namespace EdgeLam.Gateway.Unlearning.Verification;

/// <summary>One target of unlearning, checked against measured values.</summary>
/// <param name="Measured">The measured value (a ratio, or a difference in percentage points).</param>
/// <param name="Limit">The bound it must meet.</param>
public sealed record UnlearningTarget(string Name, string Requirement, double Measured, double Limit, bool Met);

/// <summary>
/// The targets a method must meet against retraining from scratch: at least 100x faster, backdoor success no
/// more than 2 points above the retrained model's, clean accuracy within 1 point of it.
/// </summary>
public static class UnlearningTargets
{
    public const double MinimumSpeedup = 100;
    public const double MaximumBackdoorGapPoints = 2;
    public const double MaximumCleanAccuracyGapPoints = 1;

    public static IReadOnlyList<UnlearningTarget> Evaluate(FederatedSimulationResult result, string method)
    {
        ArgumentNullException.ThrowIfNull(result);
        var measured = result.Method(method);
        var retrained = result.Retrained;
        var speedup = measured.WallSeconds > 0 ? retrained.WallSeconds / measured.WallSeconds : double.PositiveInfinity;
        // Rates are counts over the test images: rounded to 1e-9 points, a gap of exactly the limit is not missed by binary fractions.
        var backdoorGap = Math.Round((measured.AttackSuccessRate - retrained.AttackSuccessRate) * 100, 9);
        var cleanGap = Math.Round(Math.Abs(measured.CleanAccuracy - retrained.CleanAccuracy) * 100, 9);
        return
        [
            new("speedup", string.Create(CultureInfo.InvariantCulture, $"{method} at least {MinimumSpeedup:0}x faster than retraining"),
                speedup, MinimumSpeedup, speedup >= MinimumSpeedup),
            new("backdoor_gap_points", string.Create(CultureInfo.InvariantCulture, $"backdoor success at most {MaximumBackdoorGapPoints:0} points above retrained"),
                backdoorGap, MaximumBackdoorGapPoints, backdoorGap <= MaximumBackdoorGapPoints),
            new("clean_accuracy_gap_points", string.Create(CultureInfo.InvariantCulture, $"clean accuracy within {MaximumCleanAccuracyGapPoints:0} point of retrained"),
                cleanGap, MaximumCleanAccuracyGapPoints, cleanGap <= MaximumCleanAccuracyGapPoints),
        ];
    }

    /// <summary>One line per target: requirement, measured value, met or missed.</summary>
    public static string ToText(IReadOnlyList<UnlearningTarget> targets)
    {
        ArgumentNullException.ThrowIfNull(targets);
        return string.Join(Environment.NewLine, targets.Select(t => string.Create(CultureInfo.InvariantCulture,
            $"{t.Requirement}: measured {t.Measured:0.##} -> {(t.Met ? "met" : "MISSED")}")));
    }
}
