using EdgeLam.Gateway.Persistence;
using EdgeLam.Gateway.Training;
using EdgeLam.Gateway.Training.Rounds;
using EdgeLam.Gateway.Training.Strategies;
using EdgeLam.Gateway.Unlearning;
using EdgeLam.Gateway.Unlearning.Methods;
using static EdgeLam.Gateway.Tests.Training.TrainingFixtures;

namespace EdgeLam.Gateway.Tests.Unlearning;

public sealed class UnlearningMethodTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "edgelam-unlearn-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try { Directory.Delete(_directory, recursive: true); } catch (IOException) { }
    }

    /// <summary>Three rounds of mixed-rank, mixed-layer replies, aggregated with FedFT-H and stored as the coordinator stores them.</summary>
    private (GatewayStore Store, List<TrainingReply[]> Rounds, GlobalModelState Global) StoredRounds(int rounds, FedFtHStrategy strategy)
    {
        var store = new GatewayStore(Path.Combine(_directory, "gateway.db"));
        var history = new List<TrainingReply[]>();
        var global = GlobalModelState.Initial;
        for (var round = 1; round <= rounds; round++)
        {
            TrainingReply[] replies =
            [
                RandomReply("attacker", 300, 8, null, (round * 10) + 1),
                RandomReply("jetson-1", 600, 16, null, (round * 10) + 2),
                RandomReply("esp32-1", 200, 4, [1], (round * 10) + 3),
            ];
            history.Add(replies);
            global = strategy.AggregateTrain(Context(global, round), replies, []).Global;
            store.StartRound(round, strategy.Name, DateTimeOffset.UtcNow);
            store.CompleteRound(round, replies.Select(r => new ContributionRecord(round, r.DeviceId, r.ExampleCount, ModelParametersCodec.Encode(r.Trained), r.UplinkBytes)).ToArray(),
                ModelParametersCodec.Encode(global.Parameters, global.AggregatedRounds), "{}", DateTimeOffset.UtcNow);
        }
        return (store, history, global);
    }

    [Fact]
    public void Exact_recompute_equals_aggregating_the_stored_history_without_the_device_bit_for_bit()
    {
        var strategy = new FedFtHStrategy();
        var (store, rounds, _) = StoredRounds(3, strategy);
        using var _ = store;

        var recomputed = HistoryReplay.Replay(StoredHistory.Load(store), "attacker", strategy, Layout, Context().Hyperparameters);

        // Independent path: the in-memory replies (never encoded), without the attacker, aggregated round by round.
        var expected = GlobalModelState.Initial;
        for (var round = 1; round <= rounds.Count; round++)
        {
            var others = rounds[round - 1].Where(r => r.DeviceId != "attacker").OrderBy(r => r.DeviceId, StringComparer.Ordinal).ToArray();
            expected = strategy.AggregateTrain(Context(expected, round), others, []).Global;
        }
        Assert.Equal(0, AdapterDistance.MaximumAbsoluteDifference(expected.Parameters, recomputed.Parameters));
        Assert.Equal(expected.Parameters.Adapters.Keys.Order(), recomputed.Parameters.Adapters.Keys.Order());
        Assert.Equal(3, recomputed.AggregatedRounds);
    }

    [Fact]
    public void Replay_that_skips_overwritten_tensors_equals_aggregating_every_round()
    {
        // Round 3 retrains only layer 1, round 4 is the attacker's alone: the replay must keep round 2's layer 0 and drop round 4.
        List<TrainingReply[]> rounds =
        [
            [RandomReply("attacker", 300, 8, null, 1), RandomReply("jetson-1", 600, 16, null, 2), RandomReply("esp32-1", 200, 4, [1], 3)],
            [RandomReply("attacker", 300, 8, null, 4), RandomReply("jetson-1", 600, 16, null, 5), RandomReply("esp32-1", 200, 4, [1], 6)],
            [RandomReply("attacker", 300, 8, [1], 7), RandomReply("esp32-1", 200, 4, [1], 8)],
            [RandomReply("attacker", 300, 8, null, 9)],
        ];
        IFederatedStrategy[] strategies = [new FedFtHStrategy(), new ZeroPaddedLoraStrategy()];
        foreach (var strategy in strategies)
        {
            var history = rounds.SelectMany((replies, i) => replies.Select(r => new StoredContribution(i + 1, r.DeviceId, r.ExampleCount, r.Trained))).ToArray();
            var replayed = HistoryReplay.Replay(history, "attacker", strategy, Layout, Context().Hyperparameters);

            var expected = GlobalModelState.Initial;
            for (var round = 1; round <= 3; round++)
            {
                var others = rounds[round - 1].Where(r => r.DeviceId != "attacker").OrderBy(r => r.DeviceId, StringComparer.Ordinal).ToArray();
                expected = strategy.AggregateTrain(Context(expected, round), others, []).Global;
            }
            Assert.Equal(0, AdapterDistance.MaximumAbsoluteDifference(expected.Parameters, replayed.Parameters));
            Assert.Equal(expected.Parameters.Adapters.Keys.Order(), replayed.Parameters.Adapters.Keys.Order());
            Assert.Equal(expected.AggregatedRounds, replayed.AggregatedRounds);
        }
    }

    [Fact]
    public void Replaying_the_whole_history_reproduces_the_global_state()
    {
        var strategy = new FedFtHStrategy();
        var (store, _, global) = StoredRounds(2, strategy);
        using var _ = store;
        var replayed = HistoryReplay.Replay(StoredHistory.Load(store), null, strategy, Layout, Context().Hyperparameters);
        // Arrival order and stored order differ only in the summation order of the products.
        Assert.True(AdapterDistance.Relative(replayed.Parameters, global.Parameters) < 1e-6);
    }

    [Fact]
    public void Subtract_on_a_single_round_equals_exact_recompute()
    {
        var strategy = new FedFtHStrategy();
        var (store, _, global) = StoredRounds(1, strategy);
        using var _ = store;
        var history = StoredHistory.Load(store);

        var subtracted = ContributionSubtraction.Subtract(global, history, "attacker");
        var exact = HistoryReplay.Replay(history, "attacker", strategy, Layout, Context().Hyperparameters);

        var relative = AdapterDistance.Relative(subtracted.Parameters, exact.Parameters);
        Assert.True(relative < 1e-5, $"subtract differs from exact recompute by {relative:E3} (relative)");
        Assert.True(AdapterDistance.Relative(global.Parameters, exact.Parameters) > 0.05, "the attacker's removal must change the global");
    }

    [Fact]
    public void Subtract_drops_a_projection_only_the_device_trained()
    {
        var strategy = new FedFtHStrategy();
        TrainingReply[] replies = [RandomReply("esp32-1", 200, 4, [1], 5), RandomReply("pi-1", 400, 8, [0], 6)];
        var global = strategy.AggregateTrain(Context(), replies, []).Global;
        var history = replies.Select(r => new StoredContribution(1, r.DeviceId, r.ExampleCount, r.Trained)).ToArray();

        var subtracted = ContributionSubtraction.Subtract(global, history, "esp32-1");

        Assert.All(subtracted.Parameters.Adapters.Keys, name => Assert.StartsWith("blocks.0.", name, StringComparison.Ordinal));
        Assert.Equal(0, AdapterDistance.MaximumAbsoluteDifference(subtracted.Parameters, strategy.AggregateTrain(Context(), [replies[1]], []).Global.Parameters), 5);
    }

    [Fact]
    public async Task Calibrated_runs_the_requested_rounds_from_the_replayed_state()
    {
        var start = new GlobalModelState(3, ModelParameters.Empty);
        var seen = new List<int>();
        var result = await CalibratedRecompute.RunAsync(start, 2, (global, index, _) =>
        {
            seen.Add(global.AggregatedRounds);
            return Task.FromResult(global with { AggregatedRounds = global.AggregatedRounds + 1 });
        });
        Assert.Equal([3, 4], seen);
        Assert.Equal(5, result.AggregatedRounds);
    }

    [Theory]
    [InlineData("subtract", UnlearningMethod.Subtract)]
    [InlineData("exact_recompute", UnlearningMethod.ExactRecompute)]
    [InlineData("orthogonal", UnlearningMethod.Orthogonal)]
    [InlineData("calibrated", UnlearningMethod.Calibrated)]
    public void Command_ids_carry_the_method(string name, UnlearningMethod method)
    {
        Assert.Equal(method, UnlearningMethodNames.Parse(name));
        var id = UnlearnCommandId.Create(method);
        Assert.True(id.Length <= 64);
        Assert.True(UnlearnCommandId.TryGetMethod(id, out var parsed));
        Assert.Equal(method, parsed);
        Assert.False(UnlearnCommandId.TryGetMethod("cmd-1", out _));
        var error = Assert.Throws<ArgumentException>(() => UnlearningMethodNames.Parse("retrain"));
        Assert.Contains("exact_recompute", error.Message, StringComparison.Ordinal);
    }
}
