using System.CommandLine;
using EdgeLam.Agent.Benchmarks;
using EdgeLam.Agent.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;

// `EdgeLam.Agent bench ...` measures this board; otherwise the agent runs as a service: options from appsettings.json,
// EDGELAM_Agent__* variables and --Agent:Key=value.
if (args.Length > 0 && args[0] == "bench")
    return await AgentBenchmarkCommand.Create("bench").Parse(args[1..]).InvokeAsync().ConfigureAwait(false);

var builder = Host.CreateApplicationBuilder(args);
builder.Configuration.AddEnvironmentVariables("EDGELAM_");
builder.Services.AddSystemd();
builder.Services.AddEdgeLamAgent(builder.Configuration);
await builder.Build().RunAsync().ConfigureAwait(false);
return 0;
