using System.Text;
using EdgeLam.Contracts.Messages;
using EdgeLam.Contracts.Wire;
using EdgeLam.Gateway.Broker;
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

public sealed class UnlearningCommandTests
{
    private const string Secret = "unlearning-test-secret-0123456789";

    [Fact]
    public async Task A_signed_command_unlearns_the_device_and_a_forged_one_is_refused()
    {
        await using var gateway = await GatewayHarness.StartAsync(["dev-a", "dev-b", "dev-c"], new() { ["Unlearning:CommandSecret"] = Secret });
        var store = gateway.Get<GatewayStore>();
        var strategy = new FedFtHStrategy();
        var global = GlobalModelState.Initial;
        for (var round = 1; round <= 2; round++)
        {
            TrainingReply[] replies = [RandomReply("dev-a", 300, 8, null, round), RandomReply("dev-b", 300, 8, null, round + 10), RandomReply("dev-c", 200, 4, [1], round + 20)];
            global = strategy.AggregateTrain(Context(global, round), replies, []).Global;
            store.StartRound(round, strategy.Name, DateTimeOffset.UtcNow);
            store.CompleteRound(round, replies.Select(r => new ContributionRecord(round, r.DeviceId, r.ExampleCount, ModelParametersCodec.Encode(r.Trained), 0)).ToArray(),
                ModelParametersCodec.Encode(global.Parameters, global.AggregatedRounds), "{}", DateTimeOffset.UtcNow);
        }
        gateway.Get<TrainingCoordinator>().ReplaceGlobal(global);

        using var operatorClient = await OperatorAsync(gateway.Port);
        var events = new EventCollector(operatorClient);
        await operatorClient.SubscribeAsync(new MqttClientSubscribeOptionsBuilder().WithTopicFilter(Topics.GatewayEvents, MqttQualityOfServiceLevel.AtLeastOnce).Build());

        // Forged: signed with another key.
        var forged = OperatorCommandSignature.Sign(UnlearnCommandId.Create(UnlearningMethod.ExactRecompute), OperatorAction.Unlearn, "dev-a", DateTimeOffset.UtcNow,
            Encoding.UTF8.GetBytes("some-other-secret-0123456789"));
        await PublishAsync(operatorClient, forged);
        var refused = await events.NextAsync(GatewayEventKind.UnlearningFailed);
        Assert.Contains("signature", refused.Detail, StringComparison.Ordinal);

        // Expired: correct key, issued an hour ago.
        var stale = OperatorCommandSignature.Sign(UnlearnCommandId.Create(UnlearningMethod.ExactRecompute), OperatorAction.Unlearn, "dev-a", DateTimeOffset.UtcNow.AddHours(-1),
            Encoding.UTF8.GetBytes(Secret));
        await PublishAsync(operatorClient, stale);
        Assert.Contains("issuedUnixMilliseconds", (await events.NextAsync(GatewayEventKind.UnlearningFailed)).Detail, StringComparison.Ordinal);
        Assert.Equal(2, store.Contributions("dev-a").Count);
        Assert.False(store.IsForgotten("dev-a"));

        var valid = OperatorCommandSignature.Sign(UnlearnCommandId.Create(UnlearningMethod.ExactRecompute), OperatorAction.Unlearn, "dev-a", DateTimeOffset.UtcNow,
            Encoding.UTF8.GetBytes(Secret));
        await PublishAsync(operatorClient, valid);
        await events.NextAsync(GatewayEventKind.UnlearningStarted);
        var verified = await events.NextAsync(GatewayEventKind.UnlearningVerified);
        Assert.Equal("dev-a", verified.DeviceId);

        Assert.Empty(store.Contributions("dev-a"));
        Assert.True(store.IsForgotten("dev-a"));
        Assert.False(gateway.Get<CredentialStore>().TryAuthenticate("dev-a", GatewayHarness.DevicePassword, out _, out _));
        var audit = Assert.Single(store.UnlearningAudit());
        Assert.Equal(("dev-a", "exact_recompute"), (audit.DeviceId, audit.Method));
        Assert.Contains(valid.CommandId, audit.RequestedBy, StringComparison.Ordinal);
        Assert.Contains("\"contributionsRemoved\":2", audit.MetricsJson, StringComparison.Ordinal);

        // The coordinator and the persisted global state are the replay of what remains.
        var expected = EdgeLam.Gateway.Unlearning.Methods.HistoryReplay.Replay(EdgeLam.Gateway.Unlearning.Methods.StoredHistory.Load(store), null, strategy, gateway.Get<AdapterLayout>(),
            new TrainingHyperparameters(20, 2e-3, 32, 16f, 1234));
        Assert.Equal(0, AdapterDistance.MaximumAbsoluteDifference(expected.Parameters, gateway.Get<TrainingCoordinator>().Global.Parameters));
        var persisted = ModelParametersCodec.Decode(store.LatestGlobalState()!.Value.Payload).Parameters;
        Assert.Equal(0, AdapterDistance.MaximumAbsoluteDifference(expected.Parameters, persisted));

        // The same command again is a replay and is refused.
        await PublishAsync(operatorClient, valid);
        Assert.Contains("already executed", (await events.NextAsync(GatewayEventKind.UnlearningFailed)).Detail, StringComparison.Ordinal);

        // The forgotten identity cannot connect any more.
        var device = new MqttClientFactory().CreateMqttClient();
        var connect = await device.ConnectAsync(new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", gateway.Port).WithClientId("dev-a")
            .WithCredentials("dev-a", GatewayHarness.DevicePassword).WithProtocolVersion(MqttProtocolVersion.V500).Build());
        Assert.NotEqual(MqttClientConnectResultCode.Success, connect.ResultCode);
    }

    private static async Task<IMqttClient> OperatorAsync(int port)
    {
        var client = new MqttClientFactory().CreateMqttClient();
        var defaults = new BrokerOptions();
        await client.ConnectAsync(new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", port).WithClientId("operator-" + Guid.NewGuid().ToString("N")[..8])
            .WithCredentials(defaults.GatewayUser, defaults.GatewayPassword).WithProtocolVersion(MqttProtocolVersion.V500).Build());
        return client;
    }

    private static Task PublishAsync(IMqttClient client, OperatorCommand command) =>
        GatewayHarness.PublishAsync(client, Topics.GatewayCommand, WireMessages.Encode(command));

    /// <summary>Gateway events in arrival order; waits with a timeout, never a fixed delay.</summary>
    private sealed class EventCollector
    {
        private readonly System.Threading.Channels.Channel<GatewayEvent> _events = System.Threading.Channels.Channel.CreateUnbounded<GatewayEvent>();

        public EventCollector(IMqttClient client)
        {
            client.ApplicationMessageReceivedAsync += e =>
            {
                if (e.ApplicationMessage.Topic == Topics.GatewayEvents)
                    _events.Writer.TryWrite(WireMessages.Decode<GatewayEvent>(System.Buffers.BuffersExtensions.ToArray(e.ApplicationMessage.Payload)));
                return Task.CompletedTask;
            };
        }

        public async Task<GatewayEvent> NextAsync(GatewayEventKind kind)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
            while (true)
            {
                var next = await _events.Reader.ReadAsync(timeout.Token);
                if (next.Kind == kind) return next;
                if (next.Kind is GatewayEventKind.UnlearningFailed or GatewayEventKind.UnlearningVerified)
                    Assert.Fail($"expected {kind}, got {next.Kind}: {next.Detail}");
            }
        }
    }
}
