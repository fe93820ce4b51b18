using EdgeLam.Contracts.Messages;
using EdgeLam.Contracts.Wire;
using EdgeLam.Gateway.Broker;
using EdgeLam.Gateway.Fleet;
using EdgeLam.Gateway.Persistence;
using EdgeLam.Gateway.Tests.Rounds;
using EdgeLam.Gateway.Training;
using EdgeLam.Gateway.Training.Rounds;
using EdgeLam.Gateway.Training.Strategies;
using EdgeLam.Gateway.Unlearning;
using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Protocol;
using static EdgeLam.Gateway.Tests.Training.TrainingFixtures;

namespace EdgeLam.Gateway.Tests.Unlearning;

/// <summary>Who can be unlearned, and how an unlearned identity comes back.</summary>
public sealed class UnlearningIdentityTests
{
    private static async Task<GatewayHarness> GatewayWithTwoRoundsAsync()
    {
        var gateway = await GatewayHarness.StartAsync(["dev-a", "dev-b"]);
        var store = gateway.Get<GatewayStore>();
        var strategy = new FedFtHStrategy();
        var global = GlobalModelState.Initial;
        for (var round = 1; round <= 2; round++)
        {
            TrainingReply[] replies = [RandomReply("dev-a", 300, 8, null, round), RandomReply("dev-b", 200, 4, null, round + 10)];
            global = strategy.AggregateTrain(Context(global, round), replies, []).Global;
            store.StartRound(round, strategy.Name, DateTimeOffset.UtcNow);
            store.CompleteRound(round, replies.Select(r => new ContributionRecord(round, r.DeviceId, r.ExampleCount, ModelParametersCodec.Encode(r.Trained), 0)).ToArray(),
                ModelParametersCodec.Encode(global.Parameters, global.AggregatedRounds), "{}", DateTimeOffset.UtcNow);
        }
        gateway.Get<TrainingCoordinator>().ReplaceGlobal(global);
        return gateway;
    }

    [Theory]
    [InlineData("dev-zz", "unknown device 'dev-zz'")]
    [InlineData("gateway", "not a device")]
    public async Task An_id_that_is_no_known_device_is_refused_and_nothing_changes(string deviceId, string expected)
    {
        await using var gateway = await GatewayWithTwoRoundsAsync();
        var store = gateway.Get<GatewayStore>();
        var before = gateway.Get<TrainingCoordinator>().Global;
        var identities = gateway.Get<CredentialStore>().Records.Count;

        var error = await Assert.ThrowsAsync<ArgumentException>(() =>
            gateway.Get<UnlearningService>().UnlearnAsync(deviceId, UnlearningMethod.ExactRecompute, "test"));

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.Contains("nothing was changed", error.Message, StringComparison.Ordinal);
        Assert.Same(before, gateway.Get<TrainingCoordinator>().Global);
        Assert.Equal(4, store.Contributions().Count);
        Assert.Empty(store.UnlearningAudit());
        Assert.False(store.IsForgotten(deviceId));
        Assert.Equal(identities, gateway.Get<CredentialStore>().Records.Count);
    }

    [Fact]
    public async Task An_unlearned_device_rejoins_only_after_it_is_enrolled_again()
    {
        await using var gateway = await GatewayWithTwoRoundsAsync();
        var store = gateway.Get<GatewayStore>();
        await gateway.Get<UnlearningService>().UnlearnAsync("dev-a", UnlearningMethod.ExactRecompute, "test");
        Assert.Empty(store.Contributions("dev-a"));
        var again = await Assert.ThrowsAsync<ArgumentException>(() =>
            gateway.Get<UnlearningService>().UnlearnAsync("dev-a", UnlearningMethod.ExactRecompute, "test"));
        Assert.Contains("already unlearned", again.Message, StringComparison.Ordinal);

        // Broker credentials alone (set by hand) let it connect, but the gateway still refuses the identity.
        gateway.Get<CredentialStore>().Enroll("dev-a", ClientRole.Device, GatewayHarness.DevicePassword);
        using (var device = await gateway.ConnectDeviceAsync("dev-a"))
        {
            var rejected = await SubscribeOnceAsync(device, Topics.Device("dev-a", DeviceTopic.Rejected));
            await GatewayHarness.PublishAsync(device, Topics.Device("dev-a", DeviceTopic.Hello),
                WireMessages.Encode(GatewayHarness.Hello("dev-a", "raspberry-pi-4", DeviceTier.M, 8, Precision.Fp16)));
            var rejection = WireMessages.Decode<Rejection>(await rejected.WaitAsync(TimeSpan.FromSeconds(15)));
            Assert.Contains("re-enrolled", rejection.Detail, StringComparison.Ordinal);
            Assert.False(gateway.Get<DeviceRegistry>().TryGet("dev-a", out _));
            await device.DisconnectAsync();
        }

        gateway.Get<DeviceEnrollment>().Enroll("dev-a", GatewayHarness.DevicePassword);
        Assert.False(store.IsForgotten("dev-a"));
        var online = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        gateway.Get<DeviceRegistry>().DeviceOnline += d => { if (d.DeviceId == "dev-a") online.TrySetResult(); };
        using var enrolled = await gateway.ConnectDeviceAsync("dev-a");
        await GatewayHarness.PublishAsync(enrolled, Topics.Device("dev-a", DeviceTopic.Hello),
            WireMessages.Encode(GatewayHarness.Hello("dev-a", "raspberry-pi-4", DeviceTier.M, 8, Precision.Fp16)));
        await online.Task.WaitAsync(TimeSpan.FromSeconds(15));
    }

    private static async Task<Task<byte[]>> SubscribeOnceAsync(IMqttClient client, string topic)
    {
        var received = new TaskCompletionSource<byte[]>(TaskCreationOptions.RunContinuationsAsynchronously);
        client.ApplicationMessageReceivedAsync += e =>
        {
            if (e.ApplicationMessage.Topic == topic)
                received.TrySetResult(System.Buffers.BuffersExtensions.ToArray(e.ApplicationMessage.Payload));
            return Task.CompletedTask;
        };
        await client.SubscribeAsync(new MqttClientSubscribeOptionsBuilder().WithTopicFilter(topic, MqttQualityOfServiceLevel.AtLeastOnce).Build());
        return received.Task;
    }
}
