using System.Globalization;

namespace EdgeLam.Cli.Demo;

/// <summary>One training-quality target, checked against the strategies' measured runs.</summary>
/// <param name="Measured">Percentage points, or a fraction of full_fedavg's uplink bytes.</param>
public sealed record TrainingTarget(string Name, string Requirement, double Measured, double Limit, bool Met);

/// <summary>
/// What FedFT-H must show against the baselines of the same run: final accuracy within 1 point of full-model
/// FedAvg at no more than 5% of its uplink bytes, and at least 2 points above zero-padded LoRA averaging.
/// </summary>
public static class TrainingTargets
{
    public const double MaximumGapToFullPoints = 1;
    public const double MaximumUplinkFractionOfFull = 0.05;
    public const double MinimumLeadOverZeroPadPoints = 2;

    /// <summary>The targets whose strategies ran; none when fedft_h did not.</summary>
    public static IReadOnlyList<TrainingTarget> Evaluate(IReadOnlyList<StrategyRun> runs)
    {
        ArgumentNullException.ThrowIfNull(runs);
        var byName = runs.ToDictionary(r => r.Strategy, StringComparer.Ordinal);
        if (!byName.TryGetValue("fedft_h", out var fedFtH))
            return [];
        var c = CultureInfo.InvariantCulture;
        var targets = new List<TrainingTarget>();
        if (byName.TryGetValue("full_fedavg", out var full))
        {
            var gap = Points(full.FinalAccuracy - fedFtH.FinalAccuracy);
            targets.Add(new("accuracy_gap_to_full_fedavg_points", string.Create(c, $"fedft_h final accuracy at most {MaximumGapToFullPoints:0} point below full_fedavg"),
                gap, MaximumGapToFullPoints, gap <= MaximumGapToFullPoints));
            var fraction = full.UplinkBytes > 0 ? (double)fedFtH.UplinkBytes / full.UplinkBytes : double.PositiveInfinity;
            targets.Add(new("uplink_fraction_of_full_fedavg", string.Create(c, $"fedft_h uplink at most {MaximumUplinkFractionOfFull:P0} of full_fedavg's"),
                fraction, MaximumUplinkFractionOfFull, fraction <= MaximumUplinkFractionOfFull));
        }
        if (byName.TryGetValue("fedlora_zeropad", out var zeroPad))
        {
            var lead = Points(fedFtH.FinalAccuracy - zeroPad.FinalAccuracy);
            targets.Add(new("accuracy_lead_over_zeropad_points", string.Create(c, $"fedft_h final accuracy at least {MinimumLeadOverZeroPadPoints:0} points above fedlora_zeropad"),
                lead, MinimumLeadOverZeroPadPoints, lead >= MinimumLeadOverZeroPadPoints));
        }
        return targets;
    }

    /// <summary>
    /// An accuracy difference in percentage points, rounded to 1e-9: accuracies are counts over a few thousand images, so
    /// (0.8085 − 0.7985)·100 is exactly 1 point, not the 1.0000000000000009 that binary fractions give, which a limit of 1 would miss.
    /// </summary>
    private static double Points(double accuracyDifference) => Math.Round(accuracyDifference * 100, 9);

    /// <summary>One line per target: requirement, measured value, met or missed.</summary>
    public static string Describe(TrainingTarget target)
    {
        ArgumentNullException.ThrowIfNull(target);
        return string.Create(CultureInfo.InvariantCulture, $"{target.Requirement}: measured {target.Measured:0.###} (limit {target.Limit:0.###}), {(target.Met ? "met" : "missed")}");
    }
}
