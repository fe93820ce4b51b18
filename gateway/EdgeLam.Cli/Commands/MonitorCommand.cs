using System.CommandLine;
using EdgeLam.Cli.Monitoring;
using EdgeLam.Gateway.Broker;
using Spectre.Console;

namespace EdgeLam.Cli.Commands;

/// <summary>`edgelam monitor`: live traffic under edgelam/v1/# decoded (JSON pretty-printed, tensors summarized, rejections in red).</summary>
internal static class MonitorCommand
{
    public static Command Create()
    {
        var defaults = new BrokerOptions();
        var broker = new Option<string>("--broker") { Description = "Broker host:port", DefaultValueFactory = _ => $"127.0.0.1:{defaults.Port}" };
        var user = new Option<string>("--user") { Description = "Broker user that may read every topic", DefaultValueFactory = _ => defaults.GatewayUser };
        var password = new Option<string?>("--password") { Description = "Its password (default: EDGELAM_MONITOR_PASSWORD, else the gateway's default)" };
        var filter = new Option<string>("--filter") { Description = "MQTT topic filter, e.g. edgelam/v1/devices/+/update", DefaultValueFactory = _ => MonitorOptions.AllTraffic };
        var command = new Command("monitor", "Show live MQTT traffic under edgelam/v1/# decoded: JSON, tensor frames and bundles, rejections highlighted")
        {
            broker, user, password, filter,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            MonitorOptions options;
            try
            {
                var (host, port) = DeviceCommand.ParseBroker(parse.GetValue(broker)!);
                var secret = parse.GetValue(password) ?? Environment.GetEnvironmentVariable("EDGELAM_MONITOR_PASSWORD") ?? defaults.GatewayPassword;
                options = new MonitorOptions(host, port, parse.GetValue(user)!, secret, parse.GetValue(filter)!);
                options.Validate();
            }
            catch (ArgumentException exception)
            {
                AnsiConsole.MarkupLine($"[red]edgelam monitor: {Markup.Escape(exception.Message)}[/]");
                return 2;
            }

            await using var monitor = new TrafficMonitor(options, AnsiConsole.Console);
            try
            {
                await monitor.RunAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception exception) when (exception is InvalidOperationException or MQTTnet.Exceptions.MqttCommunicationException)
            {
                AnsiConsole.MarkupLine($"[red]edgelam monitor: {Markup.Escape(exception.Message)}[/]");
                return 1;
            }

            return 0;
        });
        return command;
    }
}
