using EdgeLam.Agent.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;

// The device agent as a service: options from appsettings.json, EDGELAM_Agent__* variables and --Agent:Key=value.
var builder = Host.CreateApplicationBuilder(args);
builder.Configuration.AddEnvironmentVariables("EDGELAM_");
builder.Services.AddSystemd();
builder.Services.AddEdgeLamAgent(builder.Configuration);
await builder.Build().RunAsync().ConfigureAwait(false);
