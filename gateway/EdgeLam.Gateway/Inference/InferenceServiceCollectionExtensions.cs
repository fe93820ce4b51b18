using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace EdgeLam.Gateway.Inference;

public static class InferenceServiceCollectionExtensions
{
    /// <summary>Registers the inference room: portfolio placement, performance table, dispatcher, orchestrator and its message door.</summary>
    public static IServiceCollection AddEdgeLamInference(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<InferenceOptions>().Bind(configuration.GetSection(InferenceOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton(new ServicePerformance());
        services.AddSingleton<Scheduling.VirtualQueues>();
        services.AddSingleton<PlacementPlanner>();
        services.AddSingleton<StageDispatcher>();
        services.AddSingleton<InferenceOrchestrator>();
        services.AddSingleton<InferenceMessageRouter>();
        services.AddHostedService(sp => sp.GetRequiredService<InferenceMessageRouter>());
        return services;
    }
}
