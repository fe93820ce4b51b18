using System.CommandLine;
using System.Globalization;
using EdgeLam.Agent;
using EdgeLam.Boards;
using EdgeLam.Firmware.Emulator;

namespace EdgeLam.Cli.Commands;

/// <summary>
/// `edgelam device`: runs one device against a broker — the Pi/Jetson agent for dotnet-agent boards,
/// the firmware emulator (the ESP32 firmware core on .NET) for nanoFramework boards.
/// </summary>
internal static class DeviceCommand
{
    public static Command Create()
    {
        var board = new Option<FileInfo>("--board") { Description = "Board profile, e.g. hardware/boards/raspberry-pi-4.json", Required = true };
        var id = new Option<string>("--id") { Description = "Device id (also its MQTT user name and client id)", Required = true };
        var broker = new Option<string>("--broker") { Description = "Broker host:port", DefaultValueFactory = _ => "127.0.0.1:1883" };
        var password = new Option<string?>("--password") { Description = "MQTT password (default: the EDGELAM_DEVICE_PASSWORD environment variable)" };
        var shard = new Option<int?>("--shard") { Description = "Index of this device's Dirichlet shard" };
        var command = new Command("device", "Run a device (agent or ESP32 emulator) that joins the gateway over MQTT") { board, id, broker, password, shard };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var boardPath = parse.GetValue(board)!.FullName;
            var (host, port) = ParseBroker(parse.GetValue(broker)!);
            var secret = parse.GetValue(password) ?? Environment.GetEnvironmentVariable("EDGELAM_DEVICE_PASSWORD");
            var deviceId = parse.GetValue(id)!;
            if (BoardProfileLoader.Load(boardPath).Runtime == BoardRuntime.NanoFramework)
            {
                return await EmulatorRunner.RunAsync(new EmulatorLaunch
                {
                    BoardPath = boardPath,
                    DeviceId = deviceId,
                    BrokerHost = host,
                    BrokerPort = port,
                    Password = secret,
                }, cancellationToken).ConfigureAwait(false);
            }

            return await AgentRunner.RunAsync(new AgentLaunch(boardPath, deviceId, host, port, secret) { ShardIndex = parse.GetValue(shard) }, cancellationToken).ConfigureAwait(false);
        });
        return command;
    }

    internal static (string Host, int Port) ParseBroker(string value)
    {
        var colon = value.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(value[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port is < 1 or > 65535)
            throw new ArgumentException($"--broker '{value}' must be host:port with a port in 1..65535");
        return (value[..colon], port);
    }
}
