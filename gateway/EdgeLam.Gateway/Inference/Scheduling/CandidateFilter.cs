namespace EdgeLam.Gateway.Inference.Scheduling;

/// <summary>Why a stage has no candidate, for the caller's failure message.</summary>
/// <param name="Feasible">Pairs that pass every check.</param>
/// <param name="LatencyRelaxed">True when no pair fit the latency budget and the list holds those that meet the rest.</param>
/// <param name="Reason">Why the list is empty, when it is.</param>
public sealed record CandidateFiltering(IReadOnlyList<SchedulingCandidate> Feasible, bool LatencyRelaxed, string? Reason);

/// <summary>
/// QoS filter of Algorithm 2: a pair is feasible when its device is online, runs the variant's precision, has the
/// memory for it, the chain can still reach the accuracy floor with it, and its expected latency fits what is left
/// of the budget after the fastest completion of the stages behind it.
/// </summary>
public static class CandidateFilter
{
    public static CandidateFiltering Filter(StageDecision decision, IReadOnlySet<string>? excludedDevices = null)
    {
        ArgumentNullException.ThrowIfNull(decision);
        var stagePairs = decision.StagePairs.ToArray();
        if (stagePairs.Length == 0)
            return new([], false, $"no device has a variant of stage '{decision.Portfolio.Stages[decision.StageIndex]}' loaded");
        var usable = stagePairs.Where(p => p.Device.Online && p.Variant.RunsOn(p.Device.Precisions) && p.Variant.SizeBytes <= p.Device.MemoryBytes
            && (excludedDevices is null || !excludedDevices.Contains(p.Device.DeviceId))).ToArray();
        if (usable.Length == 0)
            return new([], false, $"every device with stage '{decision.Portfolio.Stages[decision.StageIndex]}' is offline, excluded after a failure, or lacks the precision or memory");

        var chosen = decision.Chosen.Select(c => c.Variant).ToArray();
        var laterStages = Enumerable.Range(decision.StageIndex + 1, decision.Portfolio.Stages.Count - decision.StageIndex - 1).ToArray();
        // Best completion of the later stages among what is online: most accurate variant, fastest pair.
        var laterPairs = decision.Pairs.Where(p => p.Device.Online && p.Variant.StageIndex > decision.StageIndex).ToArray();
        var bestLaterAccuracy = laterStages.Select(s => laterPairs.Where(p => p.Variant.StageIndex == s).Select(p => p.Variant)
            .OrderByDescending(v => v.SwappedAccuracy).FirstOrDefault()).ToArray();
        if (bestLaterAccuracy.Any(v => v is null))
            return new([], false, "a later stage has no online variant, the chain cannot complete");
        var fastestLater = laterStages.Sum(s => laterPairs.Where(p => p.Variant.StageIndex == s).Min(p => p.ServiceMilliseconds));

        var accurate = usable.Where(p => decision.Portfolio.ChainAccuracyEstimate([.. chosen, p.Variant, .. bestLaterAccuracy!]) >= decision.Qos.MinimumAccuracy).ToArray();
        if (accurate.Length == 0)
            return new([], false, $"no variant of stage '{decision.Portfolio.Stages[decision.StageIndex]}' keeps the chain's accuracy estimate at or above {decision.Qos.MinimumAccuracy:P1}");

        var remaining = decision.Qos.MaximumLatencyMilliseconds - decision.ElapsedMilliseconds - fastestLater;
        var timely = accurate.Where(p => p.ExpectedLatencyMilliseconds <= remaining).ToArray();
        if (timely.Length > 0) return new(timely, false, null);
        // Relaxed: a pair whose compute alone exceeds the whole budget (a standby MCU) only when no other pair is left.
        var couldFit = accurate.Where(p => p.ServiceMilliseconds <= decision.Qos.MaximumLatencyMilliseconds).ToArray();
        return new(couldFit.Length > 0 ? couldFit : accurate, true, null);
    }
}
