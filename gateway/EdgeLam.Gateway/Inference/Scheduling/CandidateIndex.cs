namespace EdgeLam.Gateway.Inference.Scheduling;

/// <summary>A loaded (variant, device) pair as the index is built from: the device's backlog lives in its <see cref="DeviceLoad"/>.</summary>
/// <param name="Variant">Variant.</param>
/// <param name="Device">Device (its <see cref="DeviceSnapshot.BacklogMilliseconds"/> is ignored).</param>
/// <param name="Load">The device's live backlog.</param>
/// <param name="ServiceMilliseconds">Expected compute time.</param>
/// <param name="EnergyMillijoules">Modelled energy.</param>
public sealed record IndexedPair(StageVariant Variant, DeviceSnapshot Device, DeviceLoad Load, double ServiceMilliseconds, double EnergyMillijoules);

/// <summary>
/// The scheduler's hot path: every loaded pair precomputed per stage (structure of arrays, static checks done at
/// build), so one drift-plus-penalty decision is a single allocation-free pass over the stage's candidates. It decides
/// exactly as <see cref="CandidateFilter"/> followed by <see cref="DriftPlusPenaltyPolicy"/> over <see cref="Pairs"/>
/// (tested for equality); service times are updated in place as devices report them.
/// </summary>
public sealed class CandidateIndex
{
    private readonly ServicePortfolio _portfolio;
    private readonly IndexedPair[] _pairs;
    private readonly StageCandidates[] _stages;

    private sealed class StageCandidates(int[] all, int[] usable)
    {
        /// <summary>Slots of every pair of the stage (online or not), in build order.</summary>
        public readonly int[] All = all;

        /// <summary>Slots that pass the static checks: online, precision, memory.</summary>
        public readonly int[] Usable = usable;

        public double BestOnlineAccuracy = double.NaN;
        public double FastestOnlineService = double.NaN;
        public bool HasOnline;
        public volatile bool Dirty = true;
    }

    private readonly double[] _service;
    private readonly double[] _energy;
    private readonly int[] _variantOrdinal;
    private readonly double[] _accuracyDropPoints;
    private readonly DeviceLoad[] _loads;

    public CandidateIndex(ServicePortfolio portfolio, IReadOnlyList<IndexedPair> pairs)
    {
        ArgumentNullException.ThrowIfNull(portfolio);
        ArgumentNullException.ThrowIfNull(pairs);
        _portfolio = portfolio;
        _pairs = [.. pairs];
        var count = _pairs.Length;
        _service = new double[count];
        _energy = new double[count];
        _variantOrdinal = new int[count];
        _accuracyDropPoints = new double[count];
        _loads = new DeviceLoad[count];
        var all = new List<int>[portfolio.Stages.Count];
        var usable = new List<int>[portfolio.Stages.Count];
        for (var s = 0; s < all.Length; s++) (all[s], usable[s]) = ([], []);
        for (var slot = 0; slot < count; slot++)
        {
            var pair = _pairs[slot];
            var stage = pair.Variant.StageIndex;
            if (stage < 0 || stage >= all.Length) throw new ArgumentException($"Pair {pair.Variant.VariantId} names stage index {stage}; the portfolio has {all.Length} stages.", nameof(pairs));
            _service[slot] = pair.ServiceMilliseconds;
            _energy[slot] = pair.EnergyMillijoules;
            _variantOrdinal[slot] = IndexOf(portfolio.VariantsOf(stage), pair.Variant);
            _accuracyDropPoints[slot] = 100 * Math.Max(0, portfolio.ReferenceAccuracy - pair.Variant.SwappedAccuracy);
            _loads[slot] = pair.Load;
            all[stage].Add(slot);
            if (pair.Device.Online && pair.Variant.RunsOn(pair.Device.Precisions) && pair.Variant.SizeBytes <= pair.Device.MemoryBytes) usable[stage].Add(slot);
        }

        _stages = new StageCandidates[all.Length];
        for (var s = 0; s < all.Length; s++) _stages[s] = new StageCandidates([.. all[s]], [.. usable[s]]);
    }

    /// <summary>Pairs indexed.</summary>
    public int Count => _pairs.Length;

    /// <summary>The pair at a slot with its current service time, energy and backlog.</summary>
    public SchedulingCandidate Candidate(int slot)
    {
        var pair = _pairs[slot];
        return new SchedulingCandidate(pair.Variant, pair.Device with { BacklogMilliseconds = _loads[slot].BacklogMilliseconds }, _service[slot], _energy[slot]);
    }

    /// <summary>Every pair with current figures, in index order: the input of the plain filter and the baseline policies.</summary>
    public IReadOnlyList<SchedulingCandidate> Pairs()
    {
        var pairs = new SchedulingCandidate[_pairs.Length];
        for (var slot = 0; slot < pairs.Length; slot++) pairs[slot] = Candidate(slot);
        return pairs;
    }

    /// <summary>The slot of a (variant, device) pair, or -1.</summary>
    public int SlotOf(string variantId, string deviceId)
    {
        for (var slot = 0; slot < _pairs.Length; slot++)
            if (_pairs[slot].Variant.VariantId == variantId && _pairs[slot].Device.DeviceId == deviceId) return slot;
        return -1;
    }

    /// <summary>A new expected service time (and its modelled energy) for the pair at a slot.</summary>
    public void UpdateService(int slot, double serviceMilliseconds, double energyMillijoules)
    {
        _service[slot] = serviceMilliseconds;
        _energy[slot] = energyMillijoules;
        _stages[_pairs[slot].Variant.StageIndex].Dirty = true;
    }

    /// <summary>
    /// Algorithm 2 for one stage task with drift-plus-penalty: the slot minimizing the bound among the feasible pairs,
    /// or -1 with <paramref name="reason"/>. <paramref name="chosenAccuracyDrop"/> is Σ(accuracy − reference) of the
    /// variants already run, summed in pipeline order.
    /// </summary>
    public int ChooseDriftPlusPenalty(int stageIndex, double chosenAccuracyDrop, QosRequirement qos, double elapsedMilliseconds, VirtualQueueState queues,
        double tradeoff, PerformanceWeights weights, ReadOnlySpan<bool> excludedSlots, out bool latencyRelaxed, out string? reason)
    {
        ArgumentNullException.ThrowIfNull(qos);
        ArgumentNullException.ThrowIfNull(weights);
        latencyRelaxed = false;
        reason = null;
        var stage = _stages[stageIndex];
        if (stage.All.Length == 0)
        {
            reason = $"no device has a variant of stage '{_portfolio.Stages[stageIndex]}' loaded";
            return -1;
        }

        var usable = stage.Usable;
        var anyUsable = false;
        for (var i = 0; i < usable.Length && !anyUsable; i++) anyUsable = excludedSlots.IsEmpty || !excludedSlots[usable[i]];
        if (!anyUsable)
        {
            reason = $"every device with stage '{_portfolio.Stages[stageIndex]}' is offline, excluded after a failure, or lacks the precision or memory";
            return -1;
        }

        // The best completion of the later stages: most accurate online variant, fastest online pair.
        var stageCount = _stages.Length;
        var fastestLater = 0.0;
        for (var later = stageIndex + 1; later < stageCount; later++)
        {
            var next = Summary(later);
            if (!next.HasOnline)
            {
                reason = "a later stage has no online variant, the chain cannot complete";
                return -1;
            }

            fastestLater += next.FastestOnlineService;
        }

        // Accuracy depends on the variant only: one check per variant of the stage, summed in pipeline order as
        // ServicePortfolio.ChainAccuracyEstimate sums it.
        var reference = _portfolio.ReferenceAccuracy;
        var variants = _portfolio.VariantsOf(stageIndex);
        Span<bool> accurate = stackalloc bool[variants.Count];
        for (var v = 0; v < variants.Count; v++)
        {
            var drop = chosenAccuracyDrop + (variants[v].SwappedAccuracy - reference);
            for (var later = stageIndex + 1; later < stageCount; later++) drop += _stages[later].BestOnlineAccuracy - reference;
            accurate[v] = reference + drop >= qos.MinimumAccuracy;
        }

        var remaining = qos.MaximumLatencyMilliseconds - elapsedMilliseconds - fastestLater;
        var latencyWeight = weights.LatencyPerMillisecond * (1 + qos.Priority);
        var energyWeight = weights.EnergyPerMillijoule;
        int bestTimely = -1, bestFitting = -1, bestAny = -1;
        double bestTimelyCost = double.PositiveInfinity, bestFittingCost = double.PositiveInfinity, bestAnyCost = double.PositiveInfinity;
        for (var i = 0; i < usable.Length; i++)
        {
            var slot = usable[i];
            if (!accurate[_variantOrdinal[slot]] || (!excludedSlots.IsEmpty && excludedSlots[slot])) continue;
            var service = _service[slot];
            var backlog = _loads[slot].BacklogMilliseconds;
            var expected = backlog + service;
            var cost = (tradeoff * ((latencyWeight * service) + (energyWeight * _energy[slot])))
                + (backlog * service)
                + (queues.Latency * expected)
                + (queues.Accuracy * _accuracyDropPoints[slot]);
            if (cost < bestAnyCost)
            {
                bestAnyCost = cost;
                bestAny = slot;
            }

            if (service <= qos.MaximumLatencyMilliseconds && cost < bestFittingCost)
            {
                bestFittingCost = cost;
                bestFitting = slot;
            }

            if (expected <= remaining && cost < bestTimelyCost)
            {
                bestTimelyCost = cost;
                bestTimely = slot;
            }
        }

        if (bestTimely >= 0) return bestTimely;
        // Relaxed: a pair whose compute alone exceeds the whole budget (a standby MCU) only when no other pair is left.
        if (bestFitting >= 0 || bestAny >= 0)
        {
            latencyRelaxed = true;
            return bestFitting >= 0 ? bestFitting : bestAny;
        }

        reason = $"no variant of stage '{_portfolio.Stages[stageIndex]}' keeps the chain's accuracy estimate at or above {qos.MinimumAccuracy:P1}";
        return -1;
    }

    /// <summary>Marks slots of the devices in <paramref name="deviceIds"/>; the mask for <see cref="ChooseDriftPlusPenalty"/>.</summary>
    public bool[] ExcludedSlots(IReadOnlySet<string> deviceIds)
    {
        ArgumentNullException.ThrowIfNull(deviceIds);
        var mask = new bool[_pairs.Length];
        for (var slot = 0; slot < mask.Length; slot++) mask[slot] = deviceIds.Contains(_pairs[slot].Device.DeviceId);
        return mask;
    }

    private static int IndexOf(IReadOnlyList<StageVariant> variants, StageVariant variant)
    {
        for (var i = 0; i < variants.Count; i++)
            if (variants[i].VariantId == variant.VariantId) return i;
        throw new ArgumentException($"Variant {variant.VariantId} is not in the portfolio.", nameof(variant));
    }

    private StageCandidates Summary(int stageIndex)
    {
        var stage = _stages[stageIndex];
        if (!stage.Dirty) return stage;
        stage.Dirty = false;
        double best = double.NegativeInfinity, fastest = double.PositiveInfinity;
        var any = false;
        foreach (var slot in stage.All)
        {
            if (!_pairs[slot].Device.Online) continue;
            any = true;
            best = Math.Max(best, _pairs[slot].Variant.SwappedAccuracy);
            fastest = Math.Min(fastest, _service[slot]);
        }

        (stage.BestOnlineAccuracy, stage.FastestOnlineService, stage.HasOnline) = (best, fastest, any);
        return stage;
    }
}
