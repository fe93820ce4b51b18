using EdgeLam.Contracts.Messages;
using EdgeLam.Model.Variants;

namespace EdgeLam.Gateway.Inference.Scheduling;

/// <summary>A device of the simulated fleet: one FIFO queue, a fixed service time per stage task, a busy power.</summary>
/// <param name="DeviceId">Device id.</param>
/// <param name="ServiceMilliseconds">Time of one stage task.</param>
/// <param name="BusyWatts">Power while busy (modelled energy = service time × watts).</param>
public sealed record SimulatedDevice(string DeviceId, double ServiceMilliseconds, double BusyWatts);

/// <summary>What a simulated run did.</summary>
/// <param name="Requests">Requests that arrived.</param>
/// <param name="Failures">Requests the scheduler found no candidate for.</param>
/// <param name="MeanPenalty">Mean performance cost per request (weighted compute time and modelled energy over its stages).</param>
/// <param name="MeanBacklogMilliseconds">Mean total Q_d over the fleet, sampled at every arrival.</param>
/// <param name="FirstHalfMeanBacklogMilliseconds">The same over the first half of the arrivals.</param>
/// <param name="SecondHalfMeanBacklogMilliseconds">The same over the second half.</param>
/// <param name="MaxBacklogMilliseconds">Largest total Q_d seen.</param>
/// <param name="TasksPerDevice">Stage tasks each device served.</param>
public sealed record SimulationResult(int Requests, int Failures, double MeanPenalty, double MeanBacklogMilliseconds,
    double FirstHalfMeanBacklogMilliseconds, double SecondHalfMeanBacklogMilliseconds, double MaxBacklogMilliseconds, IReadOnlyList<int> TasksPerDevice)
{
    public override string ToString() =>
        $"{Requests} requests, {Failures} failed, mean penalty {MeanPenalty:F2}, backlog {FirstHalfMeanBacklogMilliseconds:F1} then {SecondHalfMeanBacklogMilliseconds:F1} ms (max {MaxBacklogMilliseconds:F1}), tasks {string.Join("/", TasksPerDevice)}";
}

/// <summary>
/// A discrete-event run of the real drift-plus-penalty decision path (<see cref="CandidateIndex"/>) over FIFO devices
/// in virtual time: Poisson arrivals, each request a chain of stage tasks dispatched when the previous one finishes.
/// It isolates the scheduler's queueing behaviour (stability, the O(1/V) cost against O(V) backlog trade-off of
/// Neely 2010, Theorem 4.8) from network and host effects; the demo measures the same on the real fleet.
/// </summary>
public static class SchedulerSimulation
{
    /// <summary>Requests per millisecond the fleet can complete when every device is busy all the time.</summary>
    public static double CapacityPerMillisecond(IReadOnlyList<SimulatedDevice> devices, int stages)
    {
        ArgumentNullException.ThrowIfNull(devices);
        return devices.Sum(d => 1 / d.ServiceMilliseconds) / stages;
    }

    /// <summary>Serves <paramref name="requests"/> Poisson arrivals; every device holds every stage.</summary>
    public static SimulationResult Run(IReadOnlyList<SimulatedDevice> devices, int stages, double arrivalsPerMillisecond, int requests, double tradeoff, int seed,
        PerformanceWeights? weights = null)
    {
        ArgumentNullException.ThrowIfNull(devices);
        ArgumentOutOfRangeException.ThrowIfLessThan(stages, 1);
        if (!(arrivalsPerMillisecond > 0)) throw new ArgumentOutOfRangeException(nameof(arrivalsPerMillisecond), arrivalsPerMillisecond, "The arrival rate must be positive.");
        weights ??= new PerformanceWeights();
        var stageIds = Enumerable.Range(0, stages).Select(s => $"stage{s}").ToArray();
        var variants = stageIds.Select((id, s) => new StageVariant(id, s, ModelVariant.Int8, 1000, 1000, 0.85)).ToArray();
        var portfolio = new ServicePortfolio(stageIds, variants, 0.85, new Dictionary<ModelVariant, double> { [ModelVariant.Int8] = 0.85 });
        var loads = devices.Select(_ => new DeviceLoad()).ToArray();
        var pairs = new List<IndexedPair>();
        var deviceOfSlot = new List<int>();
        for (var d = 0; d < devices.Count; d++)
        {
            var snapshot = new DeviceSnapshot(devices[d].DeviceId, true, [Precision.Int8], 1 << 20, devices[d].BusyWatts, 0);
            foreach (var variant in variants)
            {
                var service = devices[d].ServiceMilliseconds;
                pairs.Add(new IndexedPair(variant, snapshot, loads[d], service, ServicePerformance.ModelledEnergyMillijoules(service, devices[d].BusyWatts)));
                deviceOfSlot.Add(d);
            }
        }

        var index = new CandidateIndex(portfolio, pairs);
        var qos = new QosRequirement(0.8, TimeSpan.FromHours(1));
        var random = new Random(seed);
        var deviceFreeAt = new double[devices.Count];
        var tasks = new int[devices.Count];
        var events = new PriorityQueue<(int Stage, int Device), double>();
        var samples = new List<double>(requests);
        double penalty = 0, nextArrival = 0;
        int failures = 0, arrived = 0;

        void Dispatch(int stage, double now)
        {
            var slot = index.ChooseDriftPlusPenalty(stage, 0, qos, 0, default, tradeoff, weights, default, out _, out _);
            if (slot < 0)
            {
                failures++;
                return;
            }

            var device = deviceOfSlot[slot];
            var service = devices[device].ServiceMilliseconds;
            penalty += (weights.LatencyPerMillisecond * service) + (weights.EnergyPerMillijoule * ServicePerformance.ModelledEnergyMillijoules(service, devices[device].BusyWatts));
            tasks[device]++;
            loads[device].AddInFlight(service, 1);
            deviceFreeAt[device] = Math.Max(deviceFreeAt[device], now) + service;
            events.Enqueue((stage, device), deviceFreeAt[device]);
        }

        while (arrived < requests || events.Count > 0)
        {
            var completionAt = events.TryPeek(out _, out var at) ? at : double.PositiveInfinity;
            if (arrived < requests && nextArrival <= completionAt)
            {
                var now = nextArrival;
                samples.Add(loads.Sum(l => l.BacklogMilliseconds));
                arrived++;
                Dispatch(0, now);
                nextArrival = now - (Math.Log(1 - random.NextDouble()) / arrivalsPerMillisecond);
                continue;
            }

            var (stage, finished) = events.Dequeue();
            loads[finished].AddInFlight(-devices[finished].ServiceMilliseconds, -1);
            if (stage + 1 < stages) Dispatch(stage + 1, completionAt);
        }

        var half = Math.Max(1, samples.Count / 2);
        return new SimulationResult(requests, failures, requests == failures ? 0 : penalty / (requests - failures), samples.Average(),
            samples.Take(half).Average(), samples.Skip(half).DefaultIfEmpty(0).Average(), samples.Max(), tasks);
    }
}
