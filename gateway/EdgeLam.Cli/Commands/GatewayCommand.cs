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
        var command = new Command("gateway", "Run the gateway: embedded MQTT broker, device registry, training rounds, inference") { config, port };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var overrides = new List<string>();
            if (parse.GetValue(port) is { } p) overrides.Add($"--Broker:Port={p}");
            using var host = BuildHost(parse.GetValue(config), overrides.ToArray());
            await host.RunAsync(cancellationToken).ConfigureAwait(false);
            return 0;
        });
        return command;
    }

    public static IHost BuildHost(FileInfo? extraConfig, string[] overrides, bool quietConsole = false)
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
        if (quietConsole) builder.Logging.ClearProviders();
        builder.Services.AddSystemd();
        builder.Services.AddEdgeLamGateway(builder.Configuration);
        return builder.Build();
    }
}
