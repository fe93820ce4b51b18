using System.Text.Json;
using EdgeLam.Contracts.Messages;
using EdgeLam.Gateway.Fleet;
using EdgeLam.Gateway.Persistence;

namespace EdgeLam.Gateway.Api;

/// <summary>A fleet member as the API shows it; load is the busy share of the last heartbeat interval.</summary>
public sealed record FleetDeviceView(
    string DeviceId, string BoardId, string Tier, string Status, DateTimeOffset LastSeen, int MaxLoraRank,
    IReadOnlyList<string> Precisions, int? QueueLength, double? Load, double? TemperatureCelsius, long? FreeMemoryBytes)
{
    public static FleetDeviceView From(FleetDevice device)
    {
        ArgumentNullException.ThrowIfNull(device);
        var hello = device.Capabilities;
        var heartbeat = device.LastHeartbeat;
        return new FleetDeviceView(device.DeviceId, hello.BoardId, WireMessages.EnumName(hello.Tier), device.Online ? "online" : "offline",
            device.LastSeen, hello.MaxLoraRank, hello.Precisions.Select(p => WireMessages.EnumName(p)).ToArray(),
            heartbeat?.QueueLength,
            heartbeat is { IntervalMilliseconds: > 0 } ? Math.Clamp((double)heartbeat.BusyMilliseconds / heartbeat.IntervalMilliseconds, 0, 1) : null,
            heartbeat?.TemperatureCelsius, heartbeat?.FreeMemoryBytes);
    }
}

/// <summary>A stored round with its metrics document inlined as JSON.</summary>
public sealed record RoundView(int Round, string Strategy, string State, DateTimeOffset StartedAt, DateTimeOffset? CompletedAt, JsonElement? Metrics)
{
    public static RoundView From(RoundRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        return new RoundView(record.Round, record.Strategy, record.State, record.StartedAt, record.CompletedAt, ParseMetrics(record.MetricsJson));
    }

    /// <summary>Metrics are JSON written by the gateway; anything else (an empty or failed round's reason) is kept as a string.</summary>
    internal static JsonElement? ParseMetrics(string? json)
    {
        if (string.IsNullOrWhiteSpace(json)) return null;
        try
        {
            using var document = JsonDocument.Parse(json);
            return document.RootElement.Clone();
        }
        catch (JsonException)
        {
            return JsonSerializer.SerializeToElement(json);
        }
    }
}

/// <summary>An unlearning audit row with its metrics inlined.</summary>
public sealed record UnlearningAuditView(long Id, DateTimeOffset At, string DeviceId, string Method, string RequestedBy, JsonElement? Metrics)
{
    public static UnlearningAuditView From(UnlearningAuditRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        return new UnlearningAuditView(record.Id, record.At, record.DeviceId, record.Method, record.RequestedBy, RoundView.ParseMetrics(record.MetricsJson));
    }
}

/// <summary>POST /api/training/rounds body.</summary>
public sealed record StartRoundRequest(string? Strategy);

/// <summary>202 answer to a round request: the number the round will carry.</summary>
public sealed record StartRoundResponse(int Round, string Strategy, string Status);

/// <summary>POST /api/unlearning body; method is subtract, exact_recompute, orthogonal or calibrated.</summary>
public sealed record UnlearningRequest(string? DeviceId, string? Method);

/// <summary>POST /api/inference body: one 28x28 image (784 pixels in 0..1) and its QoS.</summary>
public sealed record InferenceRequest(float[]? Pixels, double? MinAccuracy, double? MaxLatencyMs, int? Priority);
