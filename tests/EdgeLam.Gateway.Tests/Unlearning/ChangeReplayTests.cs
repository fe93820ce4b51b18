using EdgeLam.Contracts.Messages;
using EdgeLam.Gateway.Persistence;
using EdgeLam.Gateway.Training;
using EdgeLam.Gateway.Training.LinearAlgebra;
using EdgeLam.Gateway.Training.Rounds;
using EdgeLam.Gateway.Training.Strategies;
using EdgeLam.Gateway.Unlearning;
using EdgeLam.Gateway.Unlearning.Methods;
using static EdgeLam.Gateway.Tests.Training.TrainingFixtures;

namespace EdgeLam.Gateway.Tests.Unlearning;

/// <summary>
/// FedFT-H rounds stored as the coordinator stores them (plan with each device's start, then the contributions):
/// exact_recompute adds up the remaining devices' changes, from the running sums and from the plain replay alike;
/// orthogonal projects each later round's mean change off what the forgotten device had contributed.
/// </summary>
public sealed class ChangeReplayTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "edgelam-change-" + Guid.NewGuid().ToString("N"));
    private readonly FedFtHStrategy _strategy = new();

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try { Directory.Delete(_directory, recursive: true); } catch (IOException) { }
    }

    private sealed record PlayedRound(IReadOnlyList<TrainingInstruction> Instructions, IReadOnlyList<TrainingReply> Replies);

    private static FleetMember Member(string id, int rank, int examples, int[]? layers = null) =>
        new(id, rank >= 16 ? DeviceTier.H : rank >= 8 ? DeviceTier.M : DeviceTier.L, rank, [Precision.Fp16, Precision.Int8], layers, examples);

    /// <summary>Plans each round with FedFT-H, lets every device move its start by a random change, aggregates and stores it.</summary>
    private (GatewayStore Store, List<PlayedRound> Rounds, GlobalModelState Global) Play(params FleetMember[][] rounds)
    {
        var store = new GatewayStore(Path.Combine(_directory, "gateway.db"));
        var played = new List<PlayedRound>();
        var global = GlobalModelState.Initial;
        for (var round = 1; round <= rounds.Length; round++)
        {
            var context = Context(global, round);
            var instructions = _strategy.ConfigureTrain(context, rounds[round - 1]);
            var replies = instructions.Select((instruction, k) => Trained(instruction, rounds[round - 1][k].ExampleCount, (round * 10) + k)).ToArray();
            global = _strategy.AggregateTrain(context, replies, []).Global;
            var now = DateTimeOffset.UtcNow;
            store.StartRound(new RoundPlanRecord(round, _strategy.Name, now, ModelParametersCodec.Encode(context.Global.Parameters), [.. instructions.Select(RoundPlanCodec.ToRecord)]), now);
            store.CompleteRound(round, [.. replies.Select(r => new ContributionRecord(round, r.DeviceId, r.ExampleCount, ModelParametersCodec.Encode(r.Trained), r.UplinkBytes))],
                ModelParametersCodec.Encode(global.Parameters, global.AggregatedRounds), "{}", now);
            played.Add(new PlayedRound(instructions, replies));
        }
        return (store, played, global);
    }

    /// <summary>A device's upload: the factors it was sent, each entry moved by a random step.</summary>
    private static TrainingReply Trained(TrainingInstruction instruction, long examples, int seed)
    {
        var random = new Random(seed);
        float Step(float value) => value + (float)((random.NextDouble() - 0.5) * 0.2);
        var adapters = instruction.StartFrom.Adapters.ToDictionary(
            a => a.Key, a => a.Value with { A = [.. a.Value.A.Select(Step)], B = [.. a.Value.B.Select(Step)] }, StringComparer.Ordinal);
        return new TrainingReply(instruction.DeviceId, (int)examples, ModelParameters.FromAdapters(adapters), 1000);
    }

    /// <summary>Σ_rounds Σ_k w_k·(upload_k − start_k) / Σ_k w_k over the devices other than <paramref name="excluded"/>, straight from the definition.</summary>
    private static Dictionary<string, Matrix> SumOfMeanChanges(IEnumerable<PlayedRound> rounds, string excluded)
    {
        var expected = new Dictionary<string, Matrix>(StringComparer.Ordinal);
        foreach (var round in rounds)
        {
            var starts = round.Instructions.ToDictionary(i => i.DeviceId, i => i.StartFrom, StringComparer.Ordinal);
            var kept = round.Replies.Where(r => r.DeviceId != excluded).ToArray();
            foreach (var name in kept.SelectMany(r => r.Trained.Adapters.Keys).Distinct())
            {
                var trained = kept.Where(r => r.Trained.Adapters.ContainsKey(name)).ToArray();
                var total = trained.Sum(r => (double)r.ExampleCount);
                foreach (var reply in trained)
                {
                    var change = Dense(reply.Trained.Adapters[name]).Subtract(Dense(starts[reply.DeviceId].Adapters[name]));
                    if (!expected.TryGetValue(name, out var sum))
                        expected[name] = sum = new Matrix(change.Rows, change.Columns);
                    sum.AddScaled(change, reply.ExampleCount / total);
                }
            }
        }
        return expected;
    }

    /// <summary>
    /// The orthogonal method straight from its definition, with a dense SVD: per projection and round, the remaining
    /// devices' mean change X becomes (I − U·Uᵀ)·X·(I − V·Vᵀ), U and V the column and row spaces of
    /// F = Σ over the earlier rounds of w_d·(upload_d − start_d) / Σw.
    /// </summary>
    private static Dictionary<string, Matrix> SumOfProjectedMeanChanges(IEnumerable<PlayedRound> rounds, string excluded)
    {
        var expected = new Dictionary<string, Matrix>(StringComparer.Ordinal);
        var contributed = new Dictionary<string, Matrix>(StringComparer.Ordinal);
        foreach (var round in rounds)
        {
            var starts = round.Instructions.ToDictionary(i => i.DeviceId, i => i.StartFrom, StringComparer.Ordinal);
            Matrix Change(TrainingReply reply, string name) => Dense(reply.Trained.Adapters[name]).Subtract(Dense(starts[reply.DeviceId].Adapters[name]));
            foreach (var name in round.Replies.SelectMany(r => r.Trained.Adapters.Keys).Distinct().ToArray())
            {
                var trained = round.Replies.Where(r => r.Trained.Adapters.ContainsKey(name)).ToArray();
                var kept = trained.Where(r => r.DeviceId != excluded).ToArray();
                if (kept.Length > 0)
                {
                    var keptWeight = kept.Sum(r => (double)r.ExampleCount);
                    Matrix? mean = null;
                    foreach (var reply in kept)
                    {
                        var change = Change(reply, name);
                        mean ??= new Matrix(change.Rows, change.Columns);
                        mean.AddScaled(change, reply.ExampleCount / keptWeight);
                    }
                    var projected = contributed.TryGetValue(name, out var f) ? ProjectOff(mean!, f) : mean!;
                    if (!expected.TryGetValue(name, out var sum))
                        expected[name] = sum = new Matrix(projected.Rows, projected.Columns);
                    sum.AddScaled(projected, 1);
                }
                if (trained.FirstOrDefault(r => r.DeviceId == excluded) is { } own)
                {
                    var change = Change(own, name);
                    if (!contributed.TryGetValue(name, out var f))
                        contributed[name] = f = new Matrix(change.Rows, change.Columns);
                    f.AddScaled(change, own.ExampleCount / trained.Sum(r => (double)r.ExampleCount));
                }
            }
        }
        return expected;
    }

    private static Matrix ProjectOff(Matrix x, Matrix f)
    {
        var svd = JacobiSvd.Decompose(f);
        var rank = svd.SingularValues.Count(s => s > 1e-6 * svd.SingularValues[0]);
        var u = svd.LeftVectors.LeadingColumns(rank);
        var v = svd.RightVectors.LeadingColumns(rank);
        var leftProjected = x.Subtract(u.Multiply(u.Transpose().Multiply(x)));
        return leftProjected.Subtract(leftProjected.Multiply(v).Multiply(v.Transpose()));
    }

    private static double MaximumDifference(Dictionary<string, Matrix> expected, GlobalModelState actual)
    {
        Assert.Equal(expected.Keys.Order(), actual.Parameters.Adapters.Keys.Order());
        return expected.Max(e => LargestEntry(e.Value.Subtract(Dense(actual.Parameters.Adapters[e.Key]))));
    }

    private static double LargestEntry(Matrix matrix)
    {
        var largest = 0.0;
        for (var r = 0; r < matrix.Rows; r++)
            for (var c = 0; c < matrix.Columns; c++)
                largest = Math.Max(largest, Math.Abs(matrix[r, c]));
        return largest;
    }

    private static FleetMember[] Fleet() => [Member("attacker", 8, 300), Member("jetson-1", 16, 600), Member("esp32-1", 4, 200, [1])];

    [Fact]
    public void Exact_recompute_adds_the_remaining_devices_changes_from_the_running_sums_and_from_the_plain_replay()
    {
        var (store, rounds, _) = Play(Fleet(), Fleet(), Fleet());
        using var _ = store;
        var hyper = Context().Hyperparameters;

        var fromSums = new ContributionHistory().Recompute(store, "attacker", _ => _strategy, Layout, hyper);
        var replayed = HistoryReplay.Replay(StoredHistory.Load(store), "attacker", _strategy, Layout, hyper);

        var expected = SumOfMeanChanges(rounds, "attacker");
        Assert.True(MaximumDifference(expected, fromSums) < 1e-5, $"running sums differ by {MaximumDifference(expected, fromSums):E3}");
        Assert.True(MaximumDifference(expected, replayed) < 1e-5, $"plain replay differs by {MaximumDifference(expected, replayed):E3}");
        Assert.True(AdapterDistance.MaximumAbsoluteDifference(fromSums.Parameters, replayed.Parameters) < UnlearningService.ExactnessTolerance);
        Assert.Equal(3, fromSums.AggregatedRounds);
        Assert.Equal(3, replayed.AggregatedRounds);
    }

    [Fact]
    public void With_nobody_excluded_the_sum_of_changes_is_the_global_state_fedft_h_aggregated()
    {
        // FedFT-H's product mean plus the unrepresented residual is the previous global plus the mean of changes.
        var (store, _, global) = Play(Fleet(), Fleet(), Fleet());
        using var _ = store;
        var recomputed = new ContributionHistory().Recompute(store, null, _ => _strategy, Layout, Context().Hyperparameters);
        var relative = AdapterDistance.Relative(recomputed.Parameters, global.Parameters);
        Assert.True(relative < 1e-5, $"the sum of changes differs from the aggregated global by {relative:E3} (relative)");
        Assert.Equal(global.AggregatedRounds, recomputed.AggregatedRounds);
    }

    [Fact]
    public void A_projection_or_a_round_only_the_device_trained_leaves_nothing_behind()
    {
        // Round 1: the Jetson adapts layer 0, the ESP32 layer 1; round 2: the ESP32 alone.
        FleetMember jetson = Member("jetson-1", 16, 600, [0]), esp32 = Member("esp32-1", 4, 200, [1]);
        var (store, rounds, _) = Play([jetson, esp32], [esp32]);
        using var _ = store;
        var hyper = Context().Hyperparameters;

        var fromSums = new ContributionHistory().Recompute(store, "esp32-1", _ => _strategy, Layout, hyper);
        var replayed = HistoryReplay.Replay(StoredHistory.Load(store), "esp32-1", _strategy, Layout, hyper);

        Assert.All(fromSums.Parameters.Adapters.Keys, name => Assert.StartsWith("blocks.0.", name, StringComparison.Ordinal));
        Assert.True(MaximumDifference(SumOfMeanChanges(rounds, "esp32-1"), fromSums) < 1e-5);
        Assert.True(AdapterDistance.MaximumAbsoluteDifference(fromSums.Parameters, replayed.Parameters) < UnlearningService.ExactnessTolerance);
        Assert.Equal(1, fromSums.AggregatedRounds);
        Assert.Equal(1, replayed.AggregatedRounds);
    }

    [Fact]
    public void After_the_device_is_deleted_from_the_store_a_refresh_gives_the_same_state_without_excluding_anyone()
    {
        var (store, _, _) = Play(Fleet(), Fleet());
        using var _ = store;
        var history = new ContributionHistory();
        var hyper = Context().Hyperparameters;
        var unlearned = history.Recompute(store, "attacker", _ => _strategy, Layout, hyper);

        store.ForgetDevice("attacker", DateTimeOffset.UtcNow);
        var remaining = history.Recompute(store, null, _ => _strategy, Layout, hyper);

        Assert.DoesNotContain(history.Refresh(store), c => c.DeviceId == "attacker");
        Assert.True(AdapterDistance.MaximumAbsoluteDifference(unlearned.Parameters, remaining.Parameters) < UnlearningService.ExactnessTolerance);
    }

    [Fact]
    public void Without_stored_starts_the_rounds_are_replayed_with_the_strategy()
    {
        var (store, _, _) = Play(Fleet(), Fleet());
        using var _ = store;
        var hyper = Context().Hyperparameters;
        var withoutStarts = StoredHistory.Load(store).Select(c => c with { Start = null }).ToArray();
        Assert.All(StoredHistory.Load(store), c => Assert.NotNull(c.Start));

        var replayed = HistoryReplay.Replay(withoutStarts, "attacker", _strategy, Layout, hyper);

        var expected = GlobalModelState.Initial;
        foreach (var round in withoutStarts.GroupBy(c => c.Round).OrderBy(g => g.Key))
            expected = _strategy.AggregateTrain(Context(expected, round.Key), [.. round.Where(c => c.DeviceId != "attacker").Select(c => c.ToReply())], []).Global;
        Assert.Equal(0, AdapterDistance.MaximumAbsoluteDifference(expected.Parameters, replayed.Parameters));
    }

    [Fact]
    public void Orthogonal_projects_each_later_round_off_what_the_device_had_contributed()
    {
        var (store, rounds, _) = Play(Fleet(), Fleet(), Fleet());
        using var _ = store;
        var history = new ContributionHistory();
        var hyper = Context().Hyperparameters;

        var orthogonal = history.RecomputeWithoutReactions(store, "attacker", _ => _strategy, Layout, hyper);
        var exact = history.Recompute(store, "attacker", _ => _strategy, Layout, hyper);

        var expected = SumOfProjectedMeanChanges(rounds, "attacker");
        Assert.True(MaximumDifference(expected, orthogonal) < 1e-5, $"orthogonal differs from its definition by {MaximumDifference(expected, orthogonal):E3}");
        // Rounds 2 and 3 really were projected: the result is not the exact recompute.
        Assert.True(AdapterDistance.Relative(orthogonal.Parameters, exact.Parameters) > 0.01);
        Assert.Equal(3, orthogonal.AggregatedRounds);
    }

    [Fact]
    public void Orthogonal_equals_exact_recompute_when_nobody_trained_after_the_device_first_did()
    {
        FleetMember jetson = Member("jetson-1", 16, 600), pi = Member("pi-1", 8, 400), attacker = Member("attacker", 8, 300);
        var (store, _, _) = Play([jetson, pi], [jetson, pi, attacker]);
        using var _ = store;
        var history = new ContributionHistory();
        var hyper = Context().Hyperparameters;

        var orthogonal = history.RecomputeWithoutReactions(store, "attacker", _ => _strategy, Layout, hyper);
        var exact = history.Recompute(store, "attacker", _ => _strategy, Layout, hyper);

        Assert.True(AdapterDistance.MaximumAbsoluteDifference(orthogonal.Parameters, exact.Parameters) < UnlearningService.ExactnessTolerance);
    }
}
