using System.Collections.Concurrent;
using EdgeLam.Contracts.Messages;
using EdgeLam.Contracts.Wire;
using EdgeLam.Gateway.Messaging;
using EdgeLam.Gateway.Persistence;
using Microsoft.Extensions.Logging;

namespace EdgeLam.Gateway.Fleet;

/// <summary>A device as the registry knows it: its capabilities, presence and last reported load.</summary>
public sealed record FleetDevice(
    string DeviceId,
    DeviceHello Capabilities,
    bool Online,
    DateTimeOffset LastSeen,
    DeviceHeartbeat? LastHeartbeat);

/// <summary>
/// The fleet: devices join with a hello, stay present by heartbeats and leave by their retained
/// offline status (also their MQTT last will). Changes are published on the gateway events topic.
/// </summary>
public sealed partial class DeviceRegistry(GatewayMqttClient mqtt, RejectionPublisher rejections, GatewayStore store, TimeProvider clock, ILogger<DeviceRegistry> logger)
{
    private readonly ConcurrentDictionary<string, FleetDevice> _devices = new(StringComparer.Ordinal);

    /// <summary>Raised after a device said hello (first time or after a reconnect).</summary>
    public event Action<FleetDevice>? DeviceOnline;

    /// <summary>Raised when a device's status turns offline (orderly or by last will).</summary>
    public event Action<FleetDevice>? DeviceOffline;

    public IReadOnlyList<FleetDevice> Devices => _devices.Values.OrderBy(d => d.DeviceId, StringComparer.Ordinal).ToArray();

    public IReadOnlyList<FleetDevice> OnlineDevices => Devices.Where(d => d.Online).ToArray();

    public bool TryGet(string deviceId, out FleetDevice device) => _devices.TryGetValue(deviceId, out device!);

    /// <summary>Handles hello, status and heartbeat; returns false for leaves it does not own.</summary>
    public async Task<bool> HandleAsync(DeviceMessage message)
    {
        switch (message.Leaf)
        {
            case DeviceTopic.Hello:
                await OnHelloAsync(message).ConfigureAwait(false);
                return true;
            case DeviceTopic.Status:
                await OnStatusAsync(message).ConfigureAwait(false);
                return true;
            case DeviceTopic.Heartbeat:
                await OnHeartbeatAsync(message).ConfigureAwait(false);
                return true;
            default:
                return false;
        }
    }

    /// <summary>Removes a device from the fleet (unlearning); it must be re-enrolled to return.</summary>
    public bool Remove(string deviceId) => _devices.TryRemove(deviceId, out _);

    private async Task OnHelloAsync(DeviceMessage message)
    {
        DeviceHello hello;
        try
        {
            hello = WireMessages.Decode<DeviceHello>(message.Payload);
        }
        catch (WireFormatException ex)
        {
            await rejections.RejectMalformedAsync(message, ex).ConfigureAwait(false);
            return;
        }

        if (!string.Equals(hello.DeviceId, message.DeviceId, StringComparison.Ordinal))
        {
            await rejections.RejectAsync(message, RejectionReason.UnknownDevice,
                $"hello names device '{hello.DeviceId}' but was published on the topic of '{message.DeviceId}'").ConfigureAwait(false);
            return;
        }

        if (store.IsForgotten(message.DeviceId))
        {
            await rejections.RejectAsync(message, RejectionReason.UnknownDevice,
                $"device '{message.DeviceId}' was unlearned and must be re-enrolled before it can rejoin").ConfigureAwait(false);
            return;
        }

        var device = _devices.AddOrUpdate(message.DeviceId,
            _ => new FleetDevice(message.DeviceId, hello, true, clock.GetUtcNow(), null),
            (_, existing) => existing with { Capabilities = hello, Online = true, LastSeen = clock.GetUtcNow() });
        LogRegistered(device.DeviceId, hello.BoardId, hello.Tier.ToString(), hello.MaxLoraRank);
        await PublishEventAsync(GatewayEventKind.DeviceRegistered, device.DeviceId,
            $"board {hello.BoardId}, tier {WireMessages.EnumName(hello.Tier)}, rank {hello.MaxLoraRank}").ConfigureAwait(false);
        DeviceOnline?.Invoke(device);
    }

    private async Task OnStatusAsync(DeviceMessage message)
    {
        // An empty retained payload clears the status; it says nothing about presence.
        if (message.Payload.Length == 0) return;
        DeviceStatus status;
        try
        {
            status = WireMessages.Decode<DeviceStatus>(message.Payload);
        }
        catch (WireFormatException ex)
        {
            await rejections.RejectMalformedAsync(message, ex).ConfigureAwait(false);
            return;
        }

        if (status.State != PresenceState.Offline) return;
        if (_devices.TryGetValue(message.DeviceId, out var existing) && existing.Online)
        {
            var offline = existing with { Online = false, LastSeen = clock.GetUtcNow() };
            _devices[message.DeviceId] = offline;
            LogOffline(message.DeviceId, status.Reason ?? "unspecified");
            await PublishEventAsync(GatewayEventKind.DeviceOffline, message.DeviceId, status.Reason).ConfigureAwait(false);
            DeviceOffline?.Invoke(offline);
        }
    }

    private async Task OnHeartbeatAsync(DeviceMessage message)
    {
        DeviceHeartbeat heartbeat;
        try
        {
            heartbeat = WireMessages.Decode<DeviceHeartbeat>(message.Payload);
        }
        catch (WireFormatException ex)
        {
            await rejections.RejectMalformedAsync(message, ex).ConfigureAwait(false);
            return;
        }

        if (!_devices.TryGetValue(message.DeviceId, out var existing))
        {
            await rejections.RejectAsync(message, RejectionReason.UnknownDevice, "heartbeat before hello: publish a hello first").ConfigureAwait(false);
            return;
        }

        _devices[message.DeviceId] = existing with { Online = true, LastSeen = clock.GetUtcNow(), LastHeartbeat = heartbeat };
    }

    private Task PublishEventAsync(GatewayEventKind kind, string deviceId, string? detail) =>
        mqtt.PublishAsync(Topics.GatewayEvents, new GatewayEvent
        {
            Kind = kind,
            TimestampUnixMilliseconds = clock.GetUtcNow().ToUnixTimeMilliseconds(),
            DeviceId = deviceId,
            Detail = detail,
        });

    [LoggerMessage(Level = LogLevel.Information, Message = "Device {DeviceId} registered: board {BoardId}, tier {Tier}, max rank {MaxRank}")]
    private partial void LogRegistered(string deviceId, string boardId, string tier, int maxRank);

    [LoggerMessage(Level = LogLevel.Information, Message = "Device {DeviceId} went offline ({Reason})")]
    private partial void LogOffline(string deviceId, string reason);
}
