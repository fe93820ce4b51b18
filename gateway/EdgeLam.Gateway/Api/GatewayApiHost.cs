using System.Text.Json.Serialization;
using EdgeLam.Gateway.Fleet;
using EdgeLam.Gateway.Hosting;
using EdgeLam.Gateway.Inference;
using EdgeLam.Gateway.Persistence;
using EdgeLam.Gateway.Training.Rounds;
using EdgeLam.Gateway.Unlearning;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpenTelemetry.Metrics;

namespace EdgeLam.Gateway.Api;

/// <summary>
/// Runs the HTTP API and dashboard on Kestrel inside the gateway process: a WebApplication of its own,
/// started after the gateway is routing, that sees the gateway's singletons (registry, store, rooms).
/// </summary>
public sealed partial class GatewayApiHost(
    IOptions<ApiOptions> options,
    IServiceProvider gatewayServices,
    GatewayRuntime runtime,
    GatewayEventFeed events,
    TrainingRoundLauncher rounds,
    ArtifactStore artifacts,
    ILoggerFactory loggerFactory,
    ILogger<GatewayApiHost> logger) : IHostedService, IAsyncDisposable
{
    private WebApplication? _app;

    /// <summary>The addresses Kestrel listens on (port 0 resolved), empty while the API is disabled or stopped.</summary>
    public IReadOnlyList<Uri> Addresses { get; private set; } = [];

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var api = options.Value;
        if (!api.Enabled) return;
        await runtime.Ready.WaitAsync(cancellationToken).ConfigureAwait(false);
        await events.StartAsync(runtime.BrokerPort, cancellationToken).ConfigureAwait(false);

        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
        builder.WebHost.UseUrls(api.Urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(loggerFactory);
        builder.Services.AddProblemDetails();
        builder.Services.ConfigureHttpJsonOptions(json => json.SerializerOptions.Converters.Add(new JsonStringEnumConverter()));
        Share<DeviceRegistry>(builder.Services);
        Share<GatewayStore>(builder.Services);
        Share<TrainingCoordinator>(builder.Services);
        Share<UnlearningService>(builder.Services);
        Share<InferenceOrchestrator>(builder.Services);
        Share<PlacementPlanner>(builder.Services);
        Share<ArtifactStore>(builder.Services);
        builder.Services.AddSingleton(events);
        builder.Services.AddSingleton(rounds);
        builder.Services.AddSingleton<GatewayApiMetrics>();
        builder.Services.AddOpenTelemetry().WithMetrics(metrics => metrics
            .AddMeter(GatewayApiMetrics.MeterName, "Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel")
            .AddPrometheusExporter());

        var app = builder.Build();
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.MapGatewayApi(api.Token);
        app.MapPrometheusScrapingEndpoint();
        app.Services.GetRequiredService<GatewayApiMetrics>();
        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        _app = app;
        Addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.Select(a => new Uri(a)).ToArray() ?? [];
        artifacts.ServeAt(ArtifactBase(api, Addresses));
        LogListening(string.Join(", ", Addresses));
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_app is null) return;
        artifacts.ServeAt(null);
        await events.DisposeAsync().ConfigureAwait(false);
        await _app.StopAsync(cancellationToken).ConfigureAwait(false);
        await rounds.Running.WaitAsync(cancellationToken).ConfigureAwait(false);
        Addresses = [];
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null) await _app.DisposeAsync().ConfigureAwait(false);
        _app = null;
    }

    /// <summary>The configured artifact base URL, else the first listen address with a wildcard host replaced by this machine's name.</summary>
    internal static Uri? ArtifactBase(ApiOptions api, IReadOnlyList<Uri> addresses)
    {
        if (!string.IsNullOrWhiteSpace(api.ArtifactBaseUrl)) return new Uri(api.ArtifactBaseUrl);
        if (addresses.Count == 0) return null;
        var first = addresses[0];
        bool wildcard = first.Host is "0.0.0.0" or "[::]" or "::" or "+" or "*";
        return wildcard ? new UriBuilder(first) { Host = System.Net.Dns.GetHostName() }.Uri : first;
    }

    /// <summary>Hands a gateway singleton to the web application without giving it ownership.</summary>
    private void Share<TService>(IServiceCollection services) where TService : class
    {
        if (gatewayServices.GetService<TService>() is { } instance) services.AddSingleton(instance);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Gateway API and dashboard listening on {Addresses}")]
    private partial void LogListening(string addresses);
}
