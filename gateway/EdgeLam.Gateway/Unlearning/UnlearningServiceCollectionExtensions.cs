using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace EdgeLam.Gateway.Unlearning;

/// <summary>Registration of the unlearning room.</summary>
public static class UnlearningServiceCollectionExtensions
{
    /// <summary>Binds and validates <see cref="UnlearningOptions"/> and subscribes <see cref="UnlearningService"/> to operator commands.</summary>
    public static IServiceCollection AddEdgeLamUnlearning(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<UnlearningOptions>().Bind(configuration.GetSection(UnlearningOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<UnlearningService>();
        services.AddHostedService(sp => sp.GetRequiredService<UnlearningService>());
        return services;
    }
}
