using EdgeLam.Reliability;
using Xunit.Abstractions;

namespace EdgeLam.Reliability.Tests;

/// <summary>
/// Each fault against a real gateway and real agents: the round completes or is explicitly failed, and the update
/// ledger balances (published = accepted + rejected, nothing lost). Scenarios run one at a time (one collection).
/// </summary>
public sealed class FaultScenarioTests(ITestOutputHelper output)
{
    private static readonly FaultScenarioOptions Options = new()
    {
        LinkDrop = TimeSpan.FromSeconds(3),
        SlowTrainingSeconds = 2,
        MalformedMessages = 40,
    };

    static FaultScenarioTests() => FleetAgents.WarmUp();

    [Fact]
    public async Task A_device_that_crashes_mid_upload_fails_alone_and_its_half_update_never_counts() =>
        AssertSurvived(await FaultScenarios.DeviceCrashMidUploadAsync(Options), aggregated: true);

    [Fact]
    public async Task A_device_flooding_malformed_messages_gets_a_rejection_for_each_while_the_round_completes() =>
        AssertSurvived(await FaultScenarios.MalformedFloodAsync(Options), aggregated: true);

    [Fact]
    public async Task A_gateway_killed_mid_round_resumes_it_on_restart_with_the_updates_it_had_accepted() =>
        AssertSurvived(await FaultScenarios.GatewayKilledMidRoundAsync(Options), aggregated: true);

    [Fact]
    public async Task A_gateway_process_killed_with_SIGKILL_mid_round_resumes_it_when_started_again() =>
        AssertSurvived(await FaultScenarios.GatewayProcessKilledMidRoundAsync(Options), aggregated: true);

    [Fact]
    public async Task A_restarted_mosquitto_broker_is_rejoined_by_gateway_and_devices_and_the_round_completes() =>
        AssertSurvived(await FaultScenarios.MosquittoRestartAsync(Options), aggregated: true); // without mosquitto it throws, naming the package

    [Fact]
    public async Task A_device_whose_link_drops_for_a_while_comes_back_and_its_update_counts() =>
        AssertSurvived(await FaultScenarios.LinkDropAsync(Options), aggregated: true);

    [Fact]
    public async Task A_full_database_fails_the_round_explicitly_and_accepts_nothing_it_cannot_store_and_the_next_round_completes_once_space_is_freed()
    {
        var result = await FaultScenarios.DatabaseFullAsync(Options);
        AssertSurvived(result, aggregated: false);
        Assert.True(result.Books.RejectionReasons.GetValueOrDefault("storage-unavailable") >= 1, string.Join(", ", result.Books.RejectionReasons));
    }

    [Fact]
    public async Task A_read_only_database_refuses_the_update_it_cannot_store_and_the_round_completes_with_every_accepted_update_once_writes_work_again()
    {
        var result = await FaultScenarios.DatabaseReadOnlyAsync(Options);
        AssertSurvived(result, aggregated: true);
        Assert.True(result.Books.RejectionReasons.GetValueOrDefault("storage-unavailable") >= 1, string.Join(", ", result.Books.RejectionReasons));
        Assert.Equal(0, result.Books.Unpersisted);
    }

    [Fact]
    public async Task An_update_replayed_after_a_gateway_restart_is_refused_as_replayed() =>
        AssertSurvived(await FaultScenarios.ReplayAfterRestartAsync(Options), aggregated: true);

    private void AssertSurvived(ScenarioResult result, bool aggregated)
    {
        var report = $"{result.Name} ({result.Seconds:0.0} s): {result.Outcome}\n{string.Join("\n", result.Checks)}";
        output.WriteLine(report);
        Assert.True(result.Survived, report);
        Assert.Equal(aggregated, result.RoundAggregated);
        Assert.Equal(0, result.Books.Lost);
        Assert.True(result.Books.Published > 0, report);
    }
}
