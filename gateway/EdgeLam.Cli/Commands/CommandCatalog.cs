using System.CommandLine;

namespace EdgeLam.Cli.Commands;

/// <summary>Every verb of the edgelam CLI, in the order --help lists them.</summary>
internal static class CommandCatalog
{
    public static IEnumerable<Command> All()
    {
        yield return DemoCommand.Create();
        yield return GatewayCommand.Create();
        yield return DeviceCommand.Create();
        yield return BenchCommand.Create();
        yield return UnlearnCommand.Create();
        yield return MonitorCommand.Create();
        yield return FleetCommand.Create();
    }
}
