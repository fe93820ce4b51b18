using System.Collections.Concurrent;
using System.CommandLine;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using EdgeLam.Contracts.Messages;
using EdgeLam.Contracts.Wire;
using EdgeLam.Gateway.Api;
using EdgeLam.Gateway.Broker;
using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Protocol;

namespace EdgeLam.Cli.Commands;

/// <summary>One device as `edgelam fleet` prints it; a column the source does not know is null.</summary>
internal sealed record FleetRow(string Id, string? Tier, string? Board, string Status, int? Rank, string? Precision, DateTimeOffset? LastSeen);

/// <summary>
/// `edgelam fleet [--broker host:port | --api URL] [--json]`: the fleet of a running gateway, from its HTTP API's
/// /api/fleet (every column) or from the retained device statuses on the broker (ids and presence; tier, board,
/// rank and precision only for devices that say hello while the command listens).
/// </summary>
internal static class FleetCommand
{
    private static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public static Command Create()
    {
        var defaults = new BrokerOptions();
        var broker = new Option<string>("--broker") { Description = "MQTT broker as host:port", DefaultValueFactory = _ => "127.0.0.1:1883" };
        var api = new Option<string?>("--api") { Description = "Gateway HTTP API base URL (Api:Urls, e.g. http://127.0.0.1:8080); reads /api/fleet instead of the broker" };
        var user = new Option<string>("--user") { Description = "Broker user allowed to read device statuses", DefaultValueFactory = _ => defaults.GatewayUser };
        var password = new Option<string>("--password") { Description = "Password of --user", DefaultValueFactory = _ => defaults.GatewayPassword };
        var listen = new Option<double>("--listen") { Description = "Seconds to collect retained statuses on the broker", DefaultValueFactory = _ => 2 };
        var json = new Option<bool>("--json") { Description = "Print a JSON array instead of a table" };
        var command = new Command("fleet", "List the devices of a running gateway: id, tier, board, status, LoRA rank, precisions, last seen")
        {
            broker, api, user, password, listen, json,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            IReadOnlyList<FleetRow>? rows = parse.GetValue(api) is { } url
                ? await FromApiAsync(url, cancellationToken).ConfigureAwait(false)
                : await FromBrokerAsync(parse.GetValue(broker)!, parse.GetValue(user)!, parse.GetValue(password)!, parse.GetValue(listen), cancellationToken).ConfigureAwait(false);
            if (rows is null) return 2;
            Console.Out.WriteLine(parse.GetValue(json) ? JsonSerializer.Serialize(rows, JsonOptions) : Table(rows));
            return 0;
        });
        return command;
    }

    private static async Task<IReadOnlyList<FleetRow>?> FromApiAsync(string url, CancellationToken cancellationToken)
    {
        if (!Uri.TryCreate(url.TrimEnd('/') + "/api/fleet", UriKind.Absolute, out var address) || address.Scheme is not ("http" or "https"))
            return Fail<IReadOnlyList<FleetRow>>($"--api '{url}' is not an http(s) URL.");
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        try
        {
            var devices = await http.GetFromJsonAsync<FleetDeviceView[]>(address, new JsonSerializerOptions(JsonSerializerDefaults.Web), cancellationToken).ConfigureAwait(false) ?? [];
            return devices.Select(d => new FleetRow(d.DeviceId, d.Tier, d.BoardId, d.Status, d.MaxLoraRank, string.Join(",", d.Precisions), d.LastSeen)).ToArray();
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or JsonException)
        {
            return Fail<IReadOnlyList<FleetRow>>($"cannot read {address}: {ex.Message}");
        }
    }

    private static async Task<IReadOnlyList<FleetRow>?> FromBrokerAsync(string broker, string user, string password, double listenSeconds, CancellationToken cancellationToken)
    {
        if (!UnlearnCommand.TryParseBroker(broker, out var host, out var port))
            return Fail<IReadOnlyList<FleetRow>>($"--broker '{broker}' is not host:port.");
        if (!(listenSeconds > 0) || listenSeconds > 600)
            return Fail<IReadOnlyList<FleetRow>>($"--listen must be in (0, 600] seconds, got {listenSeconds}.");
        var statuses = new ConcurrentDictionary<string, DeviceStatus>(StringComparer.Ordinal);
        var hellos = new ConcurrentDictionary<string, DeviceHello>(StringComparer.Ordinal);
        using var client = new MqttClientFactory().CreateMqttClient();
        client.ApplicationMessageReceivedAsync += e =>
        {
            if (!Topics.TryParseDevice(e.ApplicationMessage.Topic, out var deviceId, out var leaf)) return Task.CompletedTask;
            var payload = System.Buffers.BuffersExtensions.ToArray(e.ApplicationMessage.Payload);
            try
            {
                if (leaf == DeviceTopic.Status) statuses[deviceId] = WireMessages.Decode<DeviceStatus>(payload);
                else if (leaf == DeviceTopic.Hello) hellos[deviceId] = WireMessages.Decode<DeviceHello>(payload);
            }
            catch (WireFormatException) { } // a malformed retained message is the gateway's to reject, not ours to list
            return Task.CompletedTask;
        };
        try
        {
            var connected = await client.ConnectAsync(new MqttClientOptionsBuilder().WithTcpServer(host, port)
                .WithClientId($"edgelam-fleet-{Guid.NewGuid():N}"[..32]).WithCredentials(user, password)
                .WithProtocolVersion(MqttProtocolVersion.V500).WithTimeout(TimeSpan.FromSeconds(10)).Build(), cancellationToken).ConfigureAwait(false);
            if (connected.ResultCode != MqttClientConnectResultCode.Success)
                return Fail<IReadOnlyList<FleetRow>>($"the broker at {host}:{port} refused the connection: {connected.ResultCode} {connected.ReasonString}");
        }
        catch (MQTTnet.Exceptions.MqttCommunicationException ex)
        {
            return Fail<IReadOnlyList<FleetRow>>($"cannot reach the broker at {host}:{port}: {ex.Message}");
        }

        await client.SubscribeAsync(new MqttClientSubscribeOptionsBuilder()
            .WithTopicFilter("edgelam/v1/devices/+/status", MqttQualityOfServiceLevel.AtLeastOnce)
            .WithTopicFilter("edgelam/v1/devices/+/hello", MqttQualityOfServiceLevel.AtLeastOnce).Build(), cancellationToken).ConfigureAwait(false);
        await Task.Delay(TimeSpan.FromSeconds(listenSeconds), cancellationToken).ConfigureAwait(false);
        await client.DisconnectAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        return statuses.Keys.Union(hellos.Keys).Order(StringComparer.Ordinal).Select(id =>
        {
            hellos.TryGetValue(id, out var hello);
            var status = statuses.TryGetValue(id, out var s) ? WireMessages.EnumName(s.State) : "online";
            return new FleetRow(id, hello is null ? null : WireMessages.EnumName(hello.Tier), hello?.BoardId, status, hello?.MaxLoraRank,
                hello is null ? null : string.Join(",", hello.Precisions.Select(p => WireMessages.EnumName(p))), null);
        }).ToArray();
    }

    private static string Table(IReadOnlyList<FleetRow> rows)
    {
        if (rows.Count == 0) return "No devices.";
        var c = CultureInfo.InvariantCulture;
        string[][] cells =
        [
            ["id", "tier", "board", "status", "rank", "precision", "last seen"],
            .. rows.Select(r => new[]
            {
                r.Id, r.Tier ?? "-", r.Board ?? "-", r.Status, r.Rank?.ToString(c) ?? "-", r.Precision ?? "-",
                r.LastSeen?.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss'Z'", c) ?? "-",
            }),
        ];
        var widths = Enumerable.Range(0, cells[0].Length).Select(i => cells.Max(row => row[i].Length)).ToArray();
        var lines = cells.Select(row => string.Join("  ", row.Select((cell, i) => cell.PadRight(widths[i]))).TrimEnd()).ToList();
        if (rows.Any(r => r.Tier is null))
            lines.Add("(tier, board, rank and precision come with a device's hello; --api URL reads them from the gateway)");
        return string.Join(Environment.NewLine, lines);
    }

    private static T? Fail<T>(string message) where T : class
    {
        Console.Error.WriteLine("edgelam fleet: " + message);
        return null;
    }
}
