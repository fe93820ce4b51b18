using EdgeLam.Contracts.Messages;
using EdgeLam.Contracts.Wire;
using EdgeLam.Gateway.Fleet;
using EdgeLam.Gateway.Persistence;
using EdgeLam.Gateway.Tests.Rounds;
using EdgeLam.Gateway.Training.Rounds;
using EdgeLam.Gateway.Training.Strategies;
using EdgeLam.Gateway.Unlearning;

namespace EdgeLam.Gateway.Tests.Unlearning;

public sealed class UnlearningDuringRoundTests
{
    [Fact]
    public async Task Unlearning_is_refused_while_a_round_runs_and_changes_nothing()
    {
        await using var gateway = await GatewayHarness.StartAsync(["dev-a"], new()
        {
            ["Unlearning:CommandSecret"] = "a-secret-of-at-least-16-bytes",
            ["Training:RoundTimeout"] = "00:00:30",
        });
        // A device that registers but never answers its assignment keeps the round open.
        using var device = await gateway.ConnectDeviceAsync("dev-a");
        var online = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        gateway.Get<DeviceRegistry>().DeviceOnline += _ => online.TrySetResult();
        await GatewayHarness.PublishAsync(device, Topics.Device("dev-a", DeviceTopic.Hello),
            WireMessages.Encode(GatewayHarness.Hello("dev-a", "raspberry-pi-4", DeviceTier.M, 8, Precision.Fp16)));
        await online.Task.WaitAsync(TimeSpan.FromSeconds(10));

        var coordinator = gateway.Get<TrainingCoordinator>();
        using var stopRound = new CancellationTokenSource();
        var round = coordinator.RunRoundAsync(new FedFtHStrategy(), "fedft_h", cancellationToken: stopRound.Token);
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!coordinator.IsRoundRunning && DateTime.UtcNow < deadline) await Task.Delay(20);
        Assert.True(coordinator.IsRoundRunning);

        var refusal = await Assert.ThrowsAsync<InvalidOperationException>(() =>
            gateway.Get<UnlearningService>().UnlearnAsync("dev-a", UnlearningMethod.ExactRecompute, "test"));
        Assert.Contains("is running", refusal.Message, StringComparison.Ordinal);
        var store = gateway.Get<GatewayStore>();
        Assert.Empty(store.UnlearningAudit());
        Assert.False(store.IsForgotten("dev-a"));

        // Ending the round: cancelled while waiting it throws, cancelled while still publishing the assignment it fails the device and returns.
        await stopRound.CancelAsync();
        try
        {
            var outcome = await round;
            Assert.False(outcome.Aggregated);
        }
        catch (OperationCanceledException)
        {
        }
    }
}
