using System.Diagnostics.Metrics;
using EdgeLam.Gateway.Fleet;
using EdgeLam.Gateway.Persistence;
using EdgeLam.Gateway.Training.Rounds;

namespace EdgeLam.Gateway.Api;

/// <summary>Gateway state as OpenTelemetry gauges, read at scrape time from the registry, the coordinator and the ledger (served at /metrics).</summary>
public sealed class GatewayApiMetrics : IDisposable
{
    public const string MeterName = "EdgeLam.Gateway";
    private readonly Meter _meter = new(MeterName);

    public GatewayApiMetrics(DeviceRegistry registry, TrainingCoordinator coordinator, GatewayStore store)
    {
        _meter.CreateObservableGauge("edgelam.fleet.devices", () =>
        {
            var devices = registry.Devices;
            var online = devices.Count(d => d.Online);
            return new[]
            {
                new Measurement<int>(online, new KeyValuePair<string, object?>("status", "online")),
                new Measurement<int>(devices.Count - online, new KeyValuePair<string, object?>("status", "offline")),
            };
        }, unit: "{device}", description: "Devices known to the registry, by presence.");
        _meter.CreateObservableGauge("edgelam.training.last_round", () => coordinator.LastRound, unit: "{round}", description: "Number of the latest training round.");
        _meter.CreateObservableGauge("edgelam.ledger.bytes", () => store.LedgerTotals()
            .Select(t => new Measurement<long>(t.Value, new KeyValuePair<string, object?>("outcome", t.Key))).ToArray(),
            unit: "By", description: "Payload bytes in the communication ledger, by outcome.");
    }

    public void Dispose() => _meter.Dispose();
}
