using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Threading.Channels;
using EdgeLam.Contracts.Messages;
using EdgeLam.Contracts.Wire;
using EdgeLam.Gateway.Broker;
using EdgeLam.Gateway.Unlearning;
using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Protocol;

namespace EdgeLam.Cli.Commands;

/// <summary>
/// `edgelam unlearn --device ID`: publishes a signed unlearn command on edgelam/v1/gateway/command and
/// prints the gateway's unlearning events until it reports the outcome.
/// </summary>
internal static class UnlearnCommand
{
    /// <summary>Environment variable read when --secret is not given.</summary>
    public const string SecretVariable = "EDGELAM_COMMAND_SECRET";

    public static Command Create()
    {
        var defaults = new BrokerOptions();
        var device = new Option<string>("--device") { Description = "Id of the device whose contribution is removed", Required = true };
        var method = new Option<string>("--method")
        {
            Description = $"Unlearning method: {string.Join(", ", UnlearningMethodNames.All)}",
            DefaultValueFactory = _ => new UnlearningOptions().DefaultMethod,
        };
        method.AcceptOnlyFromAmong([.. UnlearningMethodNames.All]);
        var broker = new Option<string>("--broker") { Description = "MQTT broker as host:port", DefaultValueFactory = _ => "127.0.0.1:1883" };
        var secret = new Option<string?>("--secret") { Description = $"Operator key the gateway checks (Unlearning:CommandSecret); default: ${SecretVariable}" };
        var user = new Option<string>("--user") { Description = "Broker user allowed to publish commands", DefaultValueFactory = _ => defaults.GatewayUser };
        var password = new Option<string>("--password") { Description = "Password of --user", DefaultValueFactory = _ => defaults.GatewayPassword };
        var wait = new Option<int>("--wait") { Description = "Seconds to wait for the outcome (0: do not wait)", DefaultValueFactory = _ => 120 };
        var command = new Command("unlearn", "Remove one device's contribution from the global adapters and ban its identity")
        {
            device, method, broker, secret, user, password, wait,
        };
        command.SetAction((parse, cancellationToken) => RunAsync(
            parse.GetValue(device)!, UnlearningMethodNames.Parse(parse.GetValue(method)), parse.GetValue(broker)!,
            parse.GetValue(secret) ?? Environment.GetEnvironmentVariable(SecretVariable), parse.GetValue(user)!, parse.GetValue(password)!,
            parse.GetValue(wait), cancellationToken));
        return command;
    }

    private static async Task<int> RunAsync(string deviceId, UnlearningMethod method, string broker, string? secret, string user, string password,
        int waitSeconds, CancellationToken cancellationToken)
    {
        if (!Topics.IsValidDeviceId(deviceId))
            return Fail($"--device '{deviceId}' is not a device id (1..64 characters of [A-Za-z0-9_-]).");
        if (string.IsNullOrEmpty(secret) || Encoding.UTF8.GetByteCount(secret) < UnlearningOptions.MinimumSecretLength)
            return Fail($"an operator key of at least {UnlearningOptions.MinimumSecretLength} bytes is needed: pass --secret or set ${SecretVariable}.");
        if (!TryParseBroker(broker, out var host, out var port))
            return Fail($"--broker '{broker}' is not host:port.");
        if (waitSeconds < 0)
            return Fail($"--wait must not be negative, got {waitSeconds}.");

        using var client = new MqttClientFactory().CreateMqttClient();
        var events = Channel.CreateUnbounded<GatewayEvent>();
        client.ApplicationMessageReceivedAsync += e =>
        {
            try
            {
                var gatewayEvent = WireMessages.Decode<GatewayEvent>(System.Buffers.BuffersExtensions.ToArray(e.ApplicationMessage.Payload));
                if (gatewayEvent.DeviceId == deviceId) events.Writer.TryWrite(gatewayEvent);
            }
            catch (WireFormatException) { } // another publisher's malformed event is not ours to report
            return Task.CompletedTask;
        };
        try
        {
            var connected = await client.ConnectAsync(new MqttClientOptionsBuilder().WithTcpServer(host, port)
                .WithClientId($"edgelam-cli-{Guid.NewGuid():N}"[..32]).WithCredentials(user, password)
                .WithProtocolVersion(MqttProtocolVersion.V500).WithTimeout(TimeSpan.FromSeconds(10)).Build(), cancellationToken).ConfigureAwait(false);
            if (connected.ResultCode != MqttClientConnectResultCode.Success)
                return Fail($"the broker at {host}:{port} refused the connection: {connected.ResultCode} {connected.ReasonString}");
        }
        catch (MQTTnet.Exceptions.MqttCommunicationException ex)
        {
            return Fail($"cannot reach the broker at {host}:{port}: {ex.Message}");
        }

        if (waitSeconds > 0)
            await client.SubscribeAsync(new MqttClientSubscribeOptionsBuilder().WithTopicFilter(Topics.GatewayEvents, MqttQualityOfServiceLevel.AtLeastOnce).Build(), cancellationToken).ConfigureAwait(false);
        var signed = OperatorCommandSignature.Sign(UnlearnCommandId.Create(method), OperatorAction.Unlearn, deviceId, DateTimeOffset.UtcNow, Encoding.UTF8.GetBytes(secret));
        var published = await client.PublishAsync(new MqttApplicationMessageBuilder().WithTopic(Topics.GatewayCommand).WithPayload(WireMessages.Encode(signed))
            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build(), cancellationToken).ConfigureAwait(false);
        if (!published.IsSuccess && published.ReasonCode != MqttClientPublishReasonCode.NoMatchingSubscribers)
            return Fail($"the broker refused the command: {published.ReasonCode} {published.ReasonString}");
        Console.Out.WriteLine($"Sent {signed.CommandId}: unlearn {deviceId} with {UnlearningMethodNames.NameOf(method)}");
        if (waitSeconds == 0)
            return 0;

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(waitSeconds));
        try
        {
            while (true)
            {
                var next = await events.Reader.ReadAsync(timeout.Token).ConfigureAwait(false);
                Console.Out.WriteLine($"{DateTimeOffset.FromUnixTimeMilliseconds(next.TimestampUnixMilliseconds):HH:mm:ss} {WireMessages.EnumName(next.Kind)}: {next.Detail}");
                if (next.Kind == GatewayEventKind.UnlearningVerified) return 0;
                if (next.Kind == GatewayEventKind.UnlearningFailed) return 1;
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return Fail($"no outcome from the gateway within {waitSeconds} s; check its log and edgelam/v1/gateway/events.");
        }
    }

    internal static bool TryParseBroker(string value, out string host, out int port)
    {
        host = "";
        port = 0;
        var colon = value.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(value[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out port) || port is < 1 or > 65535)
            return false;
        host = value[..colon];
        return true;
    }

    private static int Fail(string message)
    {
        Console.Error.WriteLine("edgelam unlearn: " + message);
        return 2;
    }
}
