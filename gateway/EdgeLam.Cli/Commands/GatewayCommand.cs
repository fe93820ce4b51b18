using System.CommandLine;
using EdgeLam.Gateway.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace EdgeLam.Cli.Commands;

/// <summary>`edgelam gateway`: runs the edge server (broker, registry, training, inference) until stopped.</summary>
internal static class GatewayCommand
{
    public static Command Create()
    {
        var config = new Option<FileInfo?>("--config") { Description = "An extra appsettings file layered over the defaults" };
        var port = new Option<int?>("--port") { Description = "MQTT port of the embedded broker (Broker:Port)" };
        var noDashboard = new Option<bool>("--no-dashboard") { Description = "Do not serve the HTTP API and dashboard (Api:Urls, 127.0.0.1:8080 by default)" };
        var command = new Command("gateway", "Run the gateway: embedded MQTT broker, device registry, training rounds, inference, HTTP API and dashboard") { config, port, noDashboard };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var overrides = new List<string>();
            if (parse.GetValue(port) is { } p) overrides.Add($"--Broker:Port={p}");
            using var host = BuildHost(parse.GetValue(config), overrides.ToArray(), serveDashboard: !parse.GetValue(noDashboard));
            await host.RunAsync(cancellationToken).ConfigureAwait(false);
            return 0;
        });
        return command;
    }

    /// <summary>
    /// The gateway host. With <paramref name="serveDashboard"/> the HTTP API and dashboard are on; without a configured
    /// Api:Token one is generated once and kept in .edgelam/api-token, and the dashboard's URL is printed.
    /// </summary>
    public static IHost BuildHost(FileInfo? extraConfig, string[] overrides, bool quietConsole = false, bool serveDashboard = false)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
        {
            Args = overrides,
            ContentRootPath = Directory.GetCurrentDirectory(),
        });
        // The defaults shipped next to the binary come first; a local appsettings.json, the environment and the command line override them.
        builder.Configuration.Sources.Insert(0, new Microsoft.Extensions.Configuration.Json.JsonConfigurationSource
        {
            FileProvider = new Microsoft.Extensions.FileProviders.PhysicalFileProvider(AppContext.BaseDirectory),
            Path = "appsettings.json",
            Optional = false,
        });
        if (extraConfig is not null) builder.Configuration.AddJsonFile(extraConfig.FullName, optional: false);
        builder.Configuration.AddCommandLine(overrides);
        if (serveDashboard) ServeDashboard(builder.Configuration);
        if (quietConsole) builder.Logging.ClearProviders();
        builder.Services.AddSystemd();
        builder.Services.AddEdgeLamGateway(builder.Configuration);
        return builder.Build();
    }

    private static void ServeDashboard(ConfigurationManager configuration)
    {
        var settings = new Dictionary<string, string?> { ["Api:Enabled"] = "true" };
        var tokenFile = Path.Combine(".edgelam", "api-token");
        if (string.IsNullOrWhiteSpace(configuration["Api:Token"]))
        {
            if (!File.Exists(tokenFile))
            {
                Directory.CreateDirectory(Path.GetDirectoryName(tokenFile)!);
                File.WriteAllText(tokenFile, Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(24)));
            }

            settings["Api:Token"] = File.ReadAllText(tokenFile).Trim();
            Console.Error.WriteLine($"edgelam: API token for the mutating endpoints is in {tokenFile} (set Api:Token to choose one)");
        }

        configuration.AddInMemoryCollection(settings);
        var url = (configuration["Api:Urls"] ?? "http://127.0.0.1:8080").Split(';')[0].TrimEnd('/');
        Console.Error.WriteLine($"edgelam: dashboard at {url}/");
    }
}
