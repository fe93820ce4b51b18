using EdgeLam.Gateway.Broker;
using EdgeLam.Gateway.Fleet;
using EdgeLam.Gateway.Training.Rounds;

namespace EdgeLam.Reliability;

/// <summary>
/// The fleet most fault scenarios start from: a gateway under test with three real agents online, two fast (pi-1,
/// pi-2) and one that trains for <see cref="FaultScenarioOptions.SlowTrainingSeconds"/> (pi-slow), so a fault can land
/// while its update is outstanding.
/// </summary>
public sealed class SlowDeviceFleet : IAsyncDisposable
{
    public static readonly string[] DeviceIds = ["pi-1", "pi-2", "pi-slow"];

    private SlowDeviceFleet(GatewayUnderTest gateway, FleetAgents agents)
    {
        Gateway = gateway;
        Agents = agents;
    }

    public GatewayUnderTest Gateway { get; }
    public FleetAgents Agents { get; }

    /// <param name="settings">Gateway settings over the defaults of <see cref="GatewayUnderTest"/>.</param>
    /// <param name="prepare">Runs before the gateway starts (an external broker starts here); returns further settings.</param>
    public static async Task<SlowDeviceFleet> StartAsync(FaultScenarioOptions options, IReadOnlyDictionary<string, string?>? settings = null,
        Func<string, CredentialStore, Task<IReadOnlyDictionary<string, string?>>>? prepare = null)
    {
        var gateway = await GatewayUnderTest.StartAsync(DeviceIds, settings, prepare).ConfigureAwait(false);
        var agents = new FleetAgents();
        var fleet = new SlowDeviceFleet(gateway, agents);
        try
        {
            await agents.StartAsync("pi-1", gateway.Port).ConfigureAwait(false);
            await agents.StartAsync("pi-2", gateway.Port).ConfigureAwait(false);
            await agents.StartAsync("pi-slow", gateway.Port, options.SlowTrainingSeconds, gateway.Directory).ConfigureAwait(false);
            await FaultScenarios.WaitUntilAsync(() => gateway.Get<DeviceRegistry>().OnlineDevices.Count >= DeviceIds.Length, TimeSpan.FromSeconds(60)).ConfigureAwait(false);
            return fleet;
        }
        catch
        {
            await fleet.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Starts a fedft_h round and returns it once the two fast devices' updates are accepted, while pi-slow still trains.</summary>
    public async Task<Task<RoundOutcome>> StartRoundUntilFastUpdatesAcceptedAsync()
    {
        var round = Gateway.StartRound();
        await FaultScenarios.WaitUntilAsync(() => Gateway.Ledger.Summarize().Accepted >= 2, TimeSpan.FromSeconds(60)).ConfigureAwait(false);
        return round;
    }

    /// <summary>Agents first, so they stop before the gateway they talk to.</summary>
    public async ValueTask DisposeAsync()
    {
        await Agents.DisposeAsync().ConfigureAwait(false);
        await Gateway.DisposeAsync().ConfigureAwait(false);
    }
}
