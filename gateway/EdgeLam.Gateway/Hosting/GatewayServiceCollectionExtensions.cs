using EdgeLam.Gateway.Api;
using EdgeLam.Gateway.Broker;
using EdgeLam.Gateway.Fleet;
using EdgeLam.Gateway.Inference;
using EdgeLam.Gateway.Messaging;
using EdgeLam.Gateway.Persistence;
using EdgeLam.Gateway.Training;
using EdgeLam.Gateway.Training.Rounds;
using EdgeLam.Gateway.Unlearning;
using EdgeLam.Model.Architecture;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace EdgeLam.Gateway.Hosting;

public static class GatewayServiceCollectionExtensions
{
    /// <summary>Registers the gateway's rooms and binds and validates their options at start.</summary>
    public static IServiceCollection AddEdgeLamGateway(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<BrokerOptions>().Bind(configuration.GetSection(BrokerOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<GatewayOptions>().Bind(configuration.GetSection(GatewayOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<TrainingOptions>().Bind(configuration.GetSection(TrainingOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<IValidateOptions<TrainingOptions>, AdaptedProjectionsValidation>();

        services.AddSingleton(TimeProvider.System);
        services.AddSingleton(sp => new CredentialStore(sp.GetRequiredService<IOptions<BrokerOptions>>().Value.CredentialsPath));
        services.AddSingleton(sp => new GatewayStore(sp.GetRequiredService<IOptions<GatewayOptions>>().Value.DatabasePath));
        services.AddSingleton(sp =>
        {
            var training = sp.GetRequiredService<IOptions<TrainingOptions>>().Value;
            return AdapterLayout.ForTinyVit(ModelConfig(sp.GetRequiredService<IOptions<GatewayOptions>>().Value), training.AdaptedProjections, training.SelectionByTier());
        });
        services.AddSingleton<EmbeddedBroker>();
        services.AddSingleton<GatewayMqttClient>();
        services.AddSingleton<RejectionPublisher>();
        services.AddSingleton<DeviceRegistry>();
        services.AddSingleton<DeviceEnrollment>();
        services.AddSingleton<UpdateLedger>();
        services.AddSingleton<UpdateReplayGuard>();
        services.AddSingleton<TrainingCoordinator>();
        services.AddSingleton<GatewayRuntime>();
        services.AddHostedService(sp => sp.GetRequiredService<GatewayRuntime>());
        services.AddEdgeLamInference(configuration);
        services.AddEdgeLamUnlearning(configuration);
        services.AddEdgeLamApi(configuration);
        return services;
    }

    internal static TinyVitConfig ModelConfig(GatewayOptions o) => new(ModelDim: o.ModelDim, Layers: o.ModelLayers, Heads: o.Heads, MlpDim: o.MlpDim);
}

/// <summary>Refuses at start a projection selection naming a tier or projection the model does not have, saying which.</summary>
internal sealed class AdaptedProjectionsValidation(IOptions<GatewayOptions> gateway) : IValidateOptions<TrainingOptions>
{
    public ValidateOptionsResult Validate(string? name, TrainingOptions options) =>
        options.AdaptedProjectionsError(GatewayServiceCollectionExtensions.ModelConfig(gateway.Value)) is { } error
            ? ValidateOptionsResult.Fail(error)
            : ValidateOptionsResult.Success;
}
