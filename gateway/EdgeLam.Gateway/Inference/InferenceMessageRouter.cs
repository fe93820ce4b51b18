using EdgeLam.Gateway.Hosting;
using EdgeLam.Gateway.Messaging;
using Microsoft.Extensions.Hosting;

namespace EdgeLam.Gateway.Inference;

/// <summary>The inference room's door: routes deploy acks to the planner and stage results to the dispatcher.</summary>
public sealed class InferenceMessageRouter(GatewayRuntime runtime, PlacementPlanner planner, StageDispatcher dispatcher) : IHostedService
{
    public Task<bool> HandleAsync(DeviceMessage message) => Task.FromResult(planner.Handle(message) || dispatcher.Handle(message));

    public Task StartAsync(CancellationToken cancellationToken)
    {
        runtime.ExtraHandlers.Add(HandleAsync);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
