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
    private readonly Dictionary<(int Round, string Projection), (DenseUpdate Sum, double Weight)> _rounds = [];
    private readonly Dictionary<string, DenseUpdate> _total = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _roundsTraining = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<(int Round, ContributionChange Change)>> _byDevice = new(StringComparer.Ordinal);
    private readonly Dictionary<int, int> _contributorsPerRound = [];

    /// <param name="contributions">Every stored contribution with its change.</param>
    public RoundChangeSums(IEnumerable<(StoredContribution Contribution, ContributionChange Change)> contributions)
    {
        ArgumentNullException.ThrowIfNull(contributions);
        foreach (var (contribution, change) in contributions)
        {
            _contributorsPerRound[contribution.Round] = _contributorsPerRound.GetValueOrDefault(contribution.Round) + 1;
            if (!_byDevice.TryGetValue(contribution.DeviceId, out var own))
                _byDevice[contribution.DeviceId] = own = [];
            own.Add((contribution.Round, change));
            foreach (var (name, delta) in change.Projections)
            {
                var key = (contribution.Round, name);
                var (sum, weight) = _rounds.TryGetValue(key, out var known) ? known : (new DenseUpdate(delta.OutFeatures, delta.InFeatures), 0.0);
                sum.AddScaled(delta, change.Weight);
                _rounds[key] = (sum, weight + change.Weight);
            }
        }
        foreach (var ((_, name), (sum, weight)) in _rounds)
        {
            if (weight <= 0)
                continue;
            if (!_total.TryGetValue(name, out var total))
                _total[name] = total = new DenseUpdate(sum.OutFeatures, sum.InFeatures);
            total.AddScaled(sum, 1 / weight);
            _roundsTraining[name] = _roundsTraining.GetValueOrDefault(name) + 1;
        }
    }

    /// <summary>The global state of the history without <paramref name="deviceId"/> (null: nobody excluded), starting from no adapters.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // runs once per unlearning: compiled optimized from the first call
    public GlobalModelState Without(string? deviceId)
    {
        var own = deviceId is not null && _byDevice.TryGetValue(deviceId, out var found) ? found : [];
        var result = new Dictionary<string, DenseUpdate>(StringComparer.Ordinal);
        var roundsTraining = new Dictionary<string, int>(_roundsTraining, StringComparer.Ordinal);
        DenseUpdate Result(string name) => result.TryGetValue(name, out var copy) ? copy : result[name] = _total[name].Copy();
        foreach (var (round, change) in own)
        {
            foreach (var (name, delta) in change.Projections)
            {
                var (sum, weight) = _rounds[(round, name)];
                if (weight <= 0)
                    continue;
                var target = Result(name).Values;
                var remaining = weight - change.Weight;
                var values = sum.Values;
                var removed = delta.Values;
                if (remaining > 0)
                {
                    // Σwδ/Σw out, (Σwδ − w_d·δ_d)/(Σw − w_d) in.
                    for (var i = 0; i < target.Length; i++)
                        target[i] += ((values[i] - (change.Weight * removed[i])) / remaining) - (values[i] / weight);
                }
                else
                {
                    for (var i = 0; i < target.Length; i++)
                        target[i] -= values[i] / weight;
                    roundsTraining[name]--; // nobody else trained it that round
                }
            }
        }

        var adapters = new Dictionary<string, LoraFactors>(StringComparer.Ordinal);
        foreach (var (name, total) in _total)
        {
            if (roundsTraining[name] > 0)
                adapters[name] = (result.TryGetValue(name, out var changed) ? changed : total).ToExactProduct();
        }
        var ownRounds = own.GroupBy(c => c.Round).Count(g => _contributorsPerRound[g.Key] == g.Count());
        return new GlobalModelState(_contributorsPerRound.Count - ownRounds, ModelParameters.FromAdapters(adapters));
    }
}
