using System.CommandLine;

var root = new RootCommand("EdgeLamIoT: federated LoRA training, QoS-aware inference and unlearning across an MQTT edge fleet");
return await root.Parse(args).InvokeAsync();
