using System.CommandLine;
using EdgeLam.Cli.Commands;

var root = new RootCommand("EdgeLamIoT: federated LoRA training, QoS-aware inference and unlearning across an MQTT edge fleet");
// Each verb lives in its own file under Commands/ and is registered here.
foreach (var command in CommandCatalog.All())
    root.Subcommands.Add(command);
return await root.Parse(args).InvokeAsync();
