using EdgeLam.Contracts.Messages;
using EdgeLam.Contracts.Wire;
using Microsoft.Extensions.Logging;

namespace EdgeLam.Gateway.Messaging;

/// <summary>
/// Says what the gateway refused and why, in three places: the device's rejected topic, the gateway
/// events topic, and the log. The gateway keeps running whatever it refuses.
/// </summary>
public sealed partial class RejectionPublisher(GatewayMqttClient mqtt, ILogger<RejectionPublisher> logger)
{
    public async Task RejectAsync(DeviceMessage message, RejectionReason reason, string detail, string? errorCode = null, int? round = null, string? correlationId = null)
    {
        LogRejected(message.DeviceId, message.Topic, WireMessages.EnumName(reason), detail);
        var rejection = new Rejection
        {
            RejectedTopic = message.Topic,
            Reason = reason,
            ErrorCode = reason == RejectionReason.Malformed ? errorCode ?? "Malformed" : null,
            Detail = Truncate(detail),
            Round = round,
            CorrelationId = correlationId,
        };
        try
        {
            await mqtt.PublishAsync(Topics.Device(message.DeviceId, DeviceTopic.Rejected), rejection).ConfigureAwait(false);
            await mqtt.PublishAsync(Topics.GatewayEvents, new GatewayEvent
            {
                Kind = GatewayEventKind.MessageRejected,
                TimestampUnixMilliseconds = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(),
                DeviceId = message.DeviceId,
                Round = round,
                Detail = Truncate($"{message.Topic}: {WireMessages.EnumName(reason)}: {detail}"),
            }).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is InvalidOperationException or MQTTnet.Exceptions.MqttCommunicationException)
        {
            LogNotPublished(message.DeviceId, ex.Message);
        }
    }

    /// <summary>Rejects a payload that broke the wire contract, with the codec's own error code.</summary>
    public Task RejectMalformedAsync(DeviceMessage message, WireFormatException error, int? round = null) =>
        RejectAsync(message, RejectionReason.Malformed, error.Message, error.Code.ToString(), round);

    private static string Truncate(string text) => text.Length <= 500 ? text : text[..500];

    [LoggerMessage(Level = LogLevel.Warning, Message = "Rejected message from {DeviceId} on {Topic}: {Reason}: {Detail}")]
    private partial void LogRejected(string deviceId, string topic, string reason, string detail);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not publish the rejection for {DeviceId}: {Error}")]
    private partial void LogNotPublished(string deviceId, string error);
}
