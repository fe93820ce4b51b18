using EdgeLam.Gateway.Broker;
using EdgeLam.Gateway.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace EdgeLam.Tests.Shared;

/// <summary>
/// A whole gateway host for tests: settings rooted in one folder, logging off, started and ready (linked into each
/// project whose harness starts a gateway: Gateway, Cli and Reliability tests).
/// </summary>
internal static class GatewayTestHost
{
    /// <summary>The small model (2 layers, 16 wide) that scripted devices and the "tiny" agents train.</summary>
    public static IReadOnlyDictionary<string, string?> SmallModel { get; } = new Dictionary<string, string?>
    {
        ["Gateway:ModelLayers"] = "2",
        ["Gateway:ModelDim"] = "16",
        ["Gateway:MlpDim"] = "32",
        ["Gateway:Heads"] = "2",
    };

    /// <summary>
    /// Credentials and database inside <paramref name="directory"/>, the embedded broker on <paramref name="brokerPort"/>
    /// (0: a free one); each of <paramref name="layers"/> overrides the ones before it.
    /// </summary>
    public static Dictionary<string, string?> Settings(string directory, int brokerPort, params IReadOnlyDictionary<string, string?>?[] layers)
    {
        var values = new Dictionary<string, string?>
        {
            ["Broker:Port"] = brokerPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Broker:CredentialsPath"] = Path.Combine(directory, "credentials.json"),
            ["Gateway:DatabasePath"] = Path.Combine(directory, "gateway.db"),
        };
        foreach (var layer in layers)
            foreach (var (key, value) in layer ?? new Dictionary<string, string?>()) values[key] = value;
        return values;
    }

    /// <summary>Builds the gateway from <paramref name="settings"/>, runs <paramref name="beforeStart"/> (enrolment), starts it and waits until it is ready.</summary>
    public static async Task<IHost> StartAsync(IReadOnlyDictionary<string, string?> settings, Action<IServiceProvider>? beforeStart = null)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Logging.ClearProviders();
        builder.Services.AddEdgeLamGateway(builder.Configuration);
        var host = builder.Build();
        beforeStart?.Invoke(host.Services);
        await host.StartAsync().ConfigureAwait(false);
        await host.Services.GetRequiredService<GatewayRuntime>().Ready.WaitAsync(TimeSpan.FromSeconds(30)).ConfigureAwait(false);
        return host;
    }

    /// <summary>Enrols each device with <paramref name="password"/> in the gateway's credential store.</summary>
    public static Action<IServiceProvider> Enroll(IEnumerable<string> deviceIds, string password) => services =>
    {
        var credentials = services.GetRequiredService<CredentialStore>();
        foreach (var id in deviceIds) credentials.Enroll(id, ClientRole.Device, password);
    };

    /// <summary>Stops and disposes the host, then deletes its folder (a file still held open leaves it behind).</summary>
    public static async Task StopAsync(IHost host, string directory)
    {
        await host.StopAsync().ConfigureAwait(false);
        host.Dispose();
        try { Directory.Delete(directory, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
