using EdgeLam.Gateway.Broker;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EdgeLam.Gateway.Api;

public static class ApiServiceCollectionExtensions
{
    /// <summary>Registers the HTTP API, dashboard, event stream and artifact store; nothing listens unless Api:Enabled is true.</summary>
    public static IServiceCollection AddEdgeLamApi(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<ApiOptions>().Bind(configuration.GetSection(ApiOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<ArtifactStore>();
        services.AddSingleton(sp => new GatewayEventFeed(sp.GetRequiredService<IOptions<BrokerOptions>>().Value, sp.GetRequiredService<ILogger<GatewayEventFeed>>()));
        services.AddSingleton<TrainingRoundLauncher>();
        services.AddSingleton<GatewayApiHost>();
        services.AddHostedService(sp => sp.GetRequiredService<GatewayApiHost>());
        return services;
    }
}
