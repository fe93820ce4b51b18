using CsCheck;
using EdgeLam.Contracts.Messages;
using EdgeLam.Gateway.Inference;
using EdgeLam.Gateway.Inference.Scheduling;
using EdgeLam.Model.Variants;

namespace EdgeLam.Gateway.Tests.Inference;

/// <summary>Properties of the QoS filter and the scheduling policies over random portfolios and fleets.</summary>
public sealed class SchedulerPropertyTests
{
    private static readonly ModelVariant[] Kinds = [ModelVariant.Fp32, ModelVariant.Fp16, ModelVariant.Int8, ModelVariant.PrunedInt8];
    private static readonly long[] KindBytes = [4000, 2000, 1000, 800];
    private static readonly Precision[] DevicePrecisions = [Precision.Fp32, Precision.Fp16, Precision.Int8];
    private static readonly long[] MemoryChoices = [900, 2500, 5000, 1 << 20];

    /// <summary>A random portfolio, fleet, QoS and queue state.</summary>
    public sealed record Scenario(ServicePortfolio Portfolio, IReadOnlyList<IndexedPair> Pairs, QosRequirement Qos, VirtualQueueState Queues, double Tradeoff)
    {
        public override string ToString() =>
            $"{Portfolio.Stages.Count} stages, {Pairs.Count} pairs, floor {Qos.MinimumAccuracy:F4}, budget {Qos.MaximumLatencyMilliseconds:F1} ms, V {Tradeoff:F2}, Z {Queues}";
    }

    private sealed record DeviceSpec(bool Online, int PrecisionMask, long Memory, double Backlog, int[] LoadedMasks, double[] Services);

    private static readonly Gen<Scenario> Scenarios =
        from stageCount in Gen.Int[1, 5]
        from reference in Gen.Double[0.6, 0.95]
        from variantMasks in Gen.Int[1, 15].Array[stageCount]
        from accuracies in Gen.Double[-0.15, 0.01].Array[stageCount * 4]
        from devices in (from online in Gen.Int[0, 5]
                         from precisionMask in Gen.Int[1, 7]
                         from memory in Gen.Int[0, MemoryChoices.Length - 1]
                         from backlog in Gen.Double[0, 200]
                         from loaded in Gen.Int[0, 15].Array[stageCount]
                         from services in Gen.Double[0.1, 80].Array[stageCount * 4]
                         select new DeviceSpec(online != 0, precisionMask, MemoryChoices[memory], backlog, loaded, services)).Array[1, 6]
        from floor in Gen.Double[0, 1]
        from budget in Gen.Double[1, 600]
        from priority in Gen.Int[0, 3]
        from latencyQueue in Gen.Double[0, 50]
        from accuracyQueue in Gen.Double[0, 50]
        from tradeoff in Gen.Double[0, 100]
        select Build(stageCount, reference, variantMasks, accuracies, devices, new QosRequirement(floor, TimeSpan.FromMilliseconds(budget), priority),
            new VirtualQueueState(latencyQueue, accuracyQueue), tradeoff);

    private static Scenario Build(int stageCount, double reference, int[] variantMasks, double[] accuracies, DeviceSpec[] devices, QosRequirement qos, VirtualQueueState queues, double tradeoff)
    {
        var stages = Enumerable.Range(0, stageCount).Select(s => $"stage{s}").ToArray();
        var variants = new List<StageVariant>();
        for (var s = 0; s < stageCount; s++)
            for (var k = 0; k < Kinds.Length; k++)
                if ((variantMasks[s] & (1 << k)) != 0)
                    variants.Add(new StageVariant(stages[s], s, Kinds[k], KindBytes[k], 1000, Math.Clamp(reference + accuracies[(s * 4) + k], 0, 1)));
        var portfolio = new ServicePortfolio(stages, variants, reference, new Dictionary<ModelVariant, double> { [ModelVariant.Fp32] = reference });
        var pairs = new List<IndexedPair>();
        for (var d = 0; d < devices.Length; d++)
        {
            var spec = devices[d];
            var load = new DeviceLoad();
            load.AddInFlight(spec.Backlog, 1);
            var snapshot = new DeviceSnapshot($"device{d}", spec.Online, DevicePrecisions.Where((_, i) => (spec.PrecisionMask & (1 << i)) != 0).ToArray(), spec.Memory, 5, 0);
            foreach (var variant in variants)
            {
                var k = Array.IndexOf(Kinds, variant.Variant);
                if ((spec.LoadedMasks[variant.StageIndex] & (1 << k)) == 0) continue;
                var service = spec.Services[(variant.StageIndex * 4) + k];
                pairs.Add(new IndexedPair(variant, snapshot, load, service, ServicePerformance.ModelledEnergyMillijoules(service, snapshot.BusyWatts)));
            }
        }

        return new Scenario(portfolio, pairs, qos, queues, tradeoff);
    }

    [Fact]
    public void No_policy_ever_completes_a_chain_below_the_requested_accuracy()
    {
        Scenarios.Sample(scenario =>
        {
            var index = new CandidateIndex(scenario.Portfolio, scenario.Pairs);
            ISchedulingPolicy[] policies = [new DriftPlusPenaltyPolicy(scenario.Tradeoff), new GreedyPolicy(), new RoundRobinPolicy(), new MonolithicPolicy()];
            foreach (var policy in policies)
            {
                var chosen = new List<SchedulingCandidate>();
                for (var stage = 0; stage < scenario.Portfolio.Stages.Count; stage++)
                {
                    var decision = new StageDecision(scenario.Portfolio, stage, chosen, scenario.Qos, 0, index.Pairs(), scenario.Queues);
                    var feasible = CandidateFilter.Filter(decision).Feasible;
                    if (feasible.Count == 0) break;
                    var choice = policy.Choose(decision, feasible);
                    if (choice is null) break;
                    Assert.Contains(choice, feasible);
                    chosen.Add(choice);
                }

                if (chosen.Count == scenario.Portfolio.Stages.Count)
                    Assert.True(scenario.Portfolio.ChainAccuracyEstimate(chosen.Select(c => c.Variant)) >= scenario.Qos.MinimumAccuracy, $"{policy.Name}: {string.Join(", ", chosen.Select(c => c.Variant.VariantId))}");
            }
        }, iter: 400);
    }

    [Fact]
    public void The_candidate_index_decides_exactly_as_the_plain_filter_and_drift_plus_penalty()
    {
        Scenarios.Sample(scenario =>
        {
            var index = new CandidateIndex(scenario.Portfolio, scenario.Pairs);
            var policy = new DriftPlusPenaltyPolicy(scenario.Tradeoff);
            var weights = new PerformanceWeights();
            var chosen = new List<SchedulingCandidate>();
            var chosenDrop = 0.0;
            for (var stage = 0; stage < scenario.Portfolio.Stages.Count; stage++)
            {
                var decision = new StageDecision(scenario.Portfolio, stage, chosen, scenario.Qos, 0, index.Pairs(), scenario.Queues);
                var plain = CandidateFilter.Filter(decision);
                var expected = plain.Feasible.Count == 0 ? null : policy.Choose(decision, plain.Feasible);
                var slot = index.ChooseDriftPlusPenalty(stage, chosenDrop, scenario.Qos, 0, scenario.Queues, scenario.Tradeoff, weights, default, out var relaxed, out var reason);
                if (expected is null)
                {
                    Assert.Equal(-1, slot);
                    Assert.NotNull(reason);
                    break;
                }

                var fast = index.Candidate(slot);
                Assert.Equal((expected.Variant.VariantId, expected.Device.DeviceId, plain.LatencyRelaxed), (fast.Variant.VariantId, fast.Device.DeviceId, relaxed));
                chosen.Add(fast);
                chosenDrop += fast.Variant.SwappedAccuracy - scenario.Portfolio.ReferenceAccuracy;
            }
        }, iter: 400);
    }
}
