using EdgeLam.Contracts.Messages;
using EdgeLam.Gateway.Broker;
using EdgeLam.Gateway.Fleet;
using EdgeLam.Gateway.Persistence;
using EdgeLam.Gateway.Training.Rounds;
using EdgeLam.Gateway.Training.Strategies;
using EdgeLam.Tests.Shared;

namespace EdgeLam.Gateway.Tests.Rounds;

/// <summary>A training round through a real Mosquitto broker, with the gateway as one of its clients (Broker:Mode External).</summary>
public sealed class MosquittoRoundTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task A_fedft_h_round_runs_through_mosquitto_with_the_files_the_gateway_writes()
    {
        var directory = Path.Combine(Path.GetTempPath(), "edgelam-mosquitto-round-" + Guid.NewGuid().ToString("N"));
        var credentialsPath = Path.Combine(directory, "credentials.json");
        var broker = new BrokerOptions();
        var store = new CredentialStore(credentialsPath);
        store.Enroll(broker.GatewayUser, ClientRole.Gateway, broker.GatewayPassword);
        foreach (var id in new[] { "jetson-1", "pi-1", "esp-1" }) store.Enroll(id, ClientRole.Device, GatewayHarness.DevicePassword);
        try
        {
            await using var mosquitto = await MosquittoProcess.StartAsync(directory, store.Records);
            await using var gateway = await GatewayHarness.StartAsync([], new()
            {
                ["Broker:Mode"] = "External",
                ["Broker:Host"] = "127.0.0.1",
                ["Broker:Port"] = mosquitto.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["Broker:CredentialsPath"] = credentialsPath,
            });
            Assert.Equal(mosquitto.Port, gateway.Port);
            var events = await EventRecorder.StartAsync(gateway);
            var online = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var registry = gateway.Get<DeviceRegistry>();
            registry.DeviceOnline += _ => { if (registry.OnlineDevices.Count == 3) online.TrySetResult(); };
            var devices = new[]
            {
                await ScriptedTrainingDevice.StartAsync(gateway, GatewayHarness.Hello("jetson-1", "jetson-orin-nano", DeviceTier.H, 16, Precision.Fp32, Precision.Fp16, Precision.Int8)),
                await ScriptedTrainingDevice.StartAsync(gateway, GatewayHarness.Hello("pi-1", "raspberry-pi-4", DeviceTier.M, 8, Precision.Fp16)),
                await ScriptedTrainingDevice.StartAsync(gateway, GatewayHarness.Hello("esp-1", "esp32-wrover", DeviceTier.L, 4, Precision.Int8)),
            };
            await online.Task.WaitAsync(Wait);

            var coordinator = gateway.Get<TrainingCoordinator>();
            var first = await coordinator.RunRoundAsync(new FedFtHStrategy(), "fedft_h").WaitAsync(Wait);
            var second = await coordinator.RunRoundAsync(new FedFtHStrategy(), "fedft_h").WaitAsync(Wait);

            Assert.True(first.Aggregated, first.Summary);
            Assert.True(second.Aggregated, second.Summary);
            Assert.Equal(3, second.Replies.Count);
            // The bytes counted are the payloads the devices published through mosquitto.
            Assert.Equal(devices.Sum(d => d.UploadedBytes), first.UplinkBytes + second.UplinkBytes);
            Assert.Equal([16, 8, 4], devices.Select(d => d.Adapters.Last().Rank));
            Assert.Equal(6, gateway.Get<GatewayStore>().Contributions().Count);
            await events.WaitForAsync(e => e.Kind == GatewayEventKind.RoundAggregated, 2, Wait);
            foreach (var device in devices) await device.DisposeAsync();
            await events.DisposeAsync();
        }
        finally
        {
            try { Directory.Delete(directory, recursive: true); } catch (IOException) { }
        }
    }
}
