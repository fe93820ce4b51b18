using System.Runtime.CompilerServices;
using EdgeLam.Gateway.Training;

namespace EdgeLam.Gateway.Unlearning.Methods;

/// <summary>
/// The running sums a change-averaging history (FedFT-H) is made of: per round and projection Σ w_k·δ_k and Σ w_k,
/// and their total Σ_rounds Σ w_k·δ_k / Σ w_k, which is the global state. Removing a device replaces, in each round
/// it took part in, Σwδ/Σw by (Σwδ − w_d·δ_d)/(Σw − w_d): work in proportion to the device's own contributions,
/// with no replay of the rounds and no decomposition.
/// </summary>
public sealed class RoundChangeSums
{
    private readonly List<string> _projections = [];
    private readonly List<DenseUpdate> _totals = [];
    private readonly List<int> _roundsTraining = [];
    private readonly List<List<RoundSum>> _roundsOfProjection = [];
    private readonly Dictionary<string, DeviceTerms> _byDevice = new(StringComparer.Ordinal);
    private readonly int _rounds;

    /// <summary>Σ w_k·δ_k and Σ w_k of one projection in one round.</summary>
    private sealed class RoundSum(int round, int projection, DenseUpdate sum)
    {
        public int Round { get; } = round;
        public int Projection { get; } = projection;
        public DenseUpdate Sum { get; } = sum;
        public double Weight { get; set; }
    }

    /// <summary>A device's part of one round's sum for one projection: its change, its weight, and the factors the change came from (upload and start).</summary>
    private sealed record Term(RoundSum Round, DenseUpdate Change, double Weight, LoraFactors Upload, LoraFactors Start);

    /// <summary>A device's terms per projection and the rounds nobody else took part in.</summary>
    private sealed record DeviceTerms(List<List<Term>> ByProjection, int SoloRounds);

    /// <param name="contributions">Every stored contribution with its change.</param>
    public RoundChangeSums(IReadOnlyList<(StoredContribution Contribution, ContributionChange Change)> contributions)
    {
        ArgumentNullException.ThrowIfNull(contributions);
        var projectionIndex = new Dictionary<string, int>(StringComparer.Ordinal);
        var sums = new Dictionary<(int Round, int Projection), RoundSum>();
        foreach (var (contribution, change) in contributions)
        {
            if (!_byDevice.TryGetValue(contribution.DeviceId, out var own))
                _byDevice[contribution.DeviceId] = own = new DeviceTerms([], 0);
            foreach (var (name, delta) in change.Projections)
            {
                if (!projectionIndex.TryGetValue(name, out var p))
                {
                    projectionIndex[name] = p = _projections.Count;
                    _projections.Add(name);
                    _totals.Add(new DenseUpdate(delta.OutFeatures, delta.InFeatures));
                    _roundsTraining.Add(0);
                    _roundsOfProjection.Add([]);
                }
                if (!sums.TryGetValue((contribution.Round, p), out var round))
                {
                    sums[(contribution.Round, p)] = round = new RoundSum(contribution.Round, p, new DenseUpdate(delta.OutFeatures, delta.InFeatures));
                    _roundsOfProjection[p].Add(round);
                }
                round.Sum.AddScaled(delta, change.Weight);
                round.Weight += change.Weight;
                while (own.ByProjection.Count <= p)
                    own.ByProjection.Add([]);
                own.ByProjection[p].Add(new Term(round, delta, change.Weight, contribution.Parameters.Adapters[name], contribution.Start!.Adapters[name]));
            }
        }
        foreach (var rounds in _roundsOfProjection)
            rounds.Sort((x, y) => x.Round.CompareTo(y.Round));
        foreach (var round in sums.Values.Where(s => s.Weight > 0))
        {
            _totals[round.Projection].AddScaled(round.Sum, 1 / round.Weight);
            _roundsTraining[round.Projection]++;
        }
        var contributorsPerRound = contributions.GroupBy(c => c.Contribution.Round).ToDictionary(g => g.Key, g => g.Count());
        _rounds = contributorsPerRound.Count;
        foreach (var group in contributions.GroupBy(c => c.Contribution.DeviceId, StringComparer.Ordinal))
            _byDevice[group.Key] = _byDevice[group.Key] with { SoloRounds = group.Count(c => contributorsPerRound[c.Contribution.Round] == 1) };
    }

    /// <summary>The global state of the history without <paramref name="deviceId"/> (null: nobody excluded), starting from no adapters.</summary>
    public GlobalModelState Without(string? deviceId) => Recompute(deviceId, ProjectionWithout);

    /// <summary>
    /// The history without <paramref name="deviceId"/> and without the remaining devices' reaction to it: from the
    /// round after its first contribution on, each round's mean change of the others is projected off the column and
    /// row spaces of what the device had contributed before that round (<see cref="ReactionProjection"/>).
    /// </summary>
    public GlobalModelState WithoutReactionsTo(string deviceId)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(deviceId);
        return Recompute(deviceId, ProjectionWithoutReactions);
    }

    private GlobalModelState Recompute(string? deviceId, Func<int, List<Term>, LoraFactors?> projectionWithout)
    {
        var own = deviceId is not null && _byDevice.TryGetValue(deviceId, out var found) ? found : new DeviceTerms([], 0);
        var factors = new LoraFactors?[_projections.Count];
        // Projections are independent, so they are recomputed in parallel.
        Parallel.For(0, _projections.Count, p => factors[p] = projectionWithout(p, p < own.ByProjection.Count ? own.ByProjection[p] : []));
        var adapters = new Dictionary<string, LoraFactors>(StringComparer.Ordinal);
        for (var p = 0; p < _projections.Count; p++)
        {
            if (factors[p] is { } kept)
                adapters[_projections[p]] = kept;
        }
        return new GlobalModelState(_rounds - own.SoloRounds, ModelParameters.FromAdapters(adapters));
    }

    /// <summary>One projection without the device's terms; null when nobody else trained it in any round.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // runs once per unlearning: compiled optimized from the first call
    private LoraFactors? ProjectionWithout(int projection, List<Term> terms)
    {
        var roundsTraining = _roundsTraining[projection];
        var total = terms.Count == 0 ? _totals[projection] : _totals[projection].Copy();
        var target = total.Values;
        foreach (var (round, change, weight, _, _) in terms)
        {
            if (round.Weight <= 0)
                continue;
            var sum = round.Sum.Values;
            var removed = change.Values;
            var remaining = round.Weight - weight;
            if (remaining > 0)
            {
                // Σwδ/Σw out, (Σwδ − w_d·δ_d)/(Σw − w_d) in.
                double before = 1 / round.Weight, after = 1 / remaining;
                for (var i = 0; i < target.Length; i++)
                    target[i] += ((sum[i] - (weight * removed[i])) * after) - (sum[i] * before);
            }
            else
            {
                for (var i = 0; i < target.Length; i++)
                    target[i] -= sum[i] / round.Weight;
                roundsTraining--; // nobody else trained it that round
            }
        }
        return roundsTraining > 0 ? total.ToExactProduct() : null;
    }

    /// <summary>One projection without the device's terms and without the later rounds' changes along what it contributed; null when nobody else trained it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // runs once per unlearning: compiled optimized from the first call
    private LoraFactors? ProjectionWithoutReactions(int projection, List<Term> terms)
    {
        DenseUpdate? total = null;
        var contributed = new ReactionProjection(); // what the device had put into this projection's global so far
        foreach (var round in _roundsOfProjection[projection])
        {
            if (round.Weight <= 0)
                continue;
            var own = terms.Find(t => ReferenceEquals(t.Round, round));
            var remaining = round.Weight - (own?.Weight ?? 0);
            if (remaining > 0)
            {
                var mean = round.Sum.Copy();
                if (own is not null)
                    mean.AddScaled(own.Change, -own.Weight);
                mean.Scale(1 / remaining);
                contributed.Apply(mean);
                total ??= new DenseUpdate(mean.OutFeatures, mean.InFeatures);
                total.AddScaled(mean, 1);
            }
            if (own is not null)
                contributed.Add(own.Upload, own.Start);
        }
        return total?.ToExactProduct();
    }
}
