using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace EdgeLam.Agent.Hosting;

/// <summary>Registers the agent with a generic host.</summary>
public static class AgentServiceCollectionExtensions
{
    /// <summary>The agent with options bound from the "Agent" section, validated at start.</summary>
    public static IServiceCollection AddEdgeLamAgent(this IServiceCollection services, IConfiguration configuration) =>
        services.AddEdgeLamAgent(options => configuration.GetSection(AgentOptions.Section).Bind(options));

    /// <summary>The agent with options set by <paramref name="configure"/>, validated at start.</summary>
    public static IServiceCollection AddEdgeLamAgent(this IServiceCollection services, Action<AgentOptions> configure)
    {
        services.AddOptions<AgentOptions>().Configure(configure).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<IValidateOptions<AgentOptions>, AgentOptionsValidation>();
        services.AddHostedService<AgentHostedService>();
        return services;
    }
}
