using EdgeLam.Gateway.Hosting;
using EdgeLam.Gateway.Messaging;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace EdgeLam.Gateway.Inference;

/// <summary>The inference room's door: routes deploy acks to the planner and stage results to the dispatcher.</summary>
public sealed class InferenceMessageRouter(GatewayRuntime runtime, PlacementPlanner planner, StageDispatcher dispatcher, IOptions<InferenceOptions> options) : IHostedService
{
    public Task<bool> HandleAsync(DeviceMessage message) => Task.FromResult(planner.Handle(message) || dispatcher.Handle(message));

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        runtime.ExtraHandlers.Add(HandleAsync);
        await planner.UseStageReplicasAsync(options.Value.StageReplicas, options.Value.PlacementMinimumAccuracy, cancellationToken).ConfigureAwait(false);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
