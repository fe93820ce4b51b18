using System.Collections.Concurrent;
using System.Text;
using EdgeLam.Contracts.Messages;
using EdgeLam.Contracts.Wire;
using EdgeLam.Gateway.Messaging;

namespace EdgeLam.Gateway.Inference;

/// <summary>A stage task that did not come back: the device timed out, vanished, or answered failed.</summary>
public sealed class StageDispatchException(string deviceId, string message) : Exception(message)
{
    public string DeviceId { get; } = deviceId;
}

/// <summary>A device's answer to a stage task.</summary>
/// <param name="Header">The result header.</param>
/// <param name="Output">The output frame (outcome ok).</param>
/// <param name="RoundTripMilliseconds">Time from publish to the result's arrival at the gateway.</param>
public sealed record StageReply(InferenceResultHeader Header, TensorFrame Output, double RoundTripMilliseconds);

/// <summary>
/// Sends stage tasks over MQTT and matches their results: MQTT 5 agents answer on the response topic with the
/// correlation data; MQTT 3.1.1 firmware answers on its infer/result topic and repeats the payload's correlation id
/// (WIRE.md, "Inference request/reply"). The response topic is the device's own infer/result, the one uplink the
/// broker's access policy lets it publish.
/// </summary>
public sealed class StageDispatcher(GatewayMqttClient mqtt, TimeProvider clock)
{
    private readonly ConcurrentDictionary<string, Pending> _pending = new(StringComparer.Ordinal);

    /// <summary>Stage results that matched no pending task (late after a timeout, or unknown).</summary>
    public long UnmatchedResults => Interlocked.Read(ref _unmatched);

    private long _unmatched;

    /// <summary>Publishes the task and waits for its result; throws <see cref="StageDispatchException"/> when it does not succeed.</summary>
    public async Task<StageReply> DispatchAsync(string deviceId, StageVariant variant, TensorFrame input, DateTimeOffset deadline, TimeSpan timeout, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(variant);
        ArgumentNullException.ThrowIfNull(input);
        var correlationId = Guid.NewGuid().ToString("N");
        var header = new InferenceRequestHeader
        {
            CorrelationId = correlationId,
            StageId = variant.StageId,
            VariantId = variant.VariantId,
            DeadlineUnixMilliseconds = deadline.ToUnixTimeMilliseconds(),
        };
        var payload = MessageBundle<InferenceRequestHeader>.Create(header, [new(InferenceRequestHeader.InputFrameName, input)]).Encode();
        var pending = new Pending(deviceId, new TaskCompletionSource<MessageBundle<InferenceResultHeader>>(TaskCreationOptions.RunContinuationsAsynchronously));
        _pending[correlationId] = pending;
        var started = clock.GetTimestamp();
        try
        {
            await mqtt.PublishBytesAsync(Topics.Device(deviceId, DeviceTopic.InferenceRequest), payload,
                responseTopic: Topics.Device(deviceId, DeviceTopic.InferenceResult), correlationData: Encoding.UTF8.GetBytes(correlationId),
                cancellationToken: cancellationToken).ConfigureAwait(false);
            MessageBundle<InferenceResultHeader> result;
            try
            {
                result = await pending.Completion.Task.WaitAsync(timeout, clock, cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                throw new StageDispatchException(deviceId, $"device {deviceId} did not answer stage {variant.StageId} ({variant.VariantId}) within {timeout.TotalMilliseconds:F0} ms");
            }

            var roundTrip = clock.GetElapsedTime(started).TotalMilliseconds;
            var answer = result.Header;
            if (answer.Outcome != InferenceOutcome.Ok)
                throw new StageDispatchException(deviceId, $"device {deviceId} answered stage {variant.StageId} ({variant.VariantId}) with {WireMessages.EnumName(answer.Outcome)}{(answer.Error is null ? "" : ": " + answer.Error)}");
            if (answer.VariantId != variant.VariantId || answer.StageId != variant.StageId)
                throw new StageDispatchException(deviceId, $"device {deviceId} answered for {answer.StageId}/{answer.VariantId}, the task was {variant.StageId}/{variant.VariantId}");
            return new StageReply(answer, result.Bundle.GetRequired(InferenceResultHeader.OutputFrameName), roundTrip);
        }
        finally
        {
            _pending.TryRemove(correlationId, out _);
        }
    }

    /// <summary>Fails every task waiting on a device that went offline, so the caller can re-dispatch it at once.</summary>
    public void DeviceVanished(string deviceId)
    {
        foreach (var (id, pending) in _pending)
        {
            if (pending.DeviceId == deviceId)
                pending.Completion.TrySetException(new StageDispatchException(deviceId, $"device {deviceId} went offline while running a stage task"));
        }
    }

    /// <summary>Matches infer/result messages to waiting tasks; false for other leaves.</summary>
    public bool Handle(DeviceMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (message.Leaf != DeviceTopic.InferenceResult) return false;
        MessageBundle<InferenceResultHeader> result;
        try
        {
            result = MessageBundle<InferenceResultHeader>.Decode(message.Payload);
        }
        catch (WireFormatException)
        {
            // A malformed result: if correlation data names the task, it fails now instead of timing out.
            if (message.CorrelationData is { } data && _pending.TryGetValue(Encoding.UTF8.GetString(data), out var broken) && broken.DeviceId == message.DeviceId)
                broken.Completion.TrySetException(new StageDispatchException(message.DeviceId, $"device {message.DeviceId} sent a malformed stage result"));
            else Interlocked.Increment(ref _unmatched);
            return true;
        }

        var correlationId = message.CorrelationData is { Length: > 0 } correlation ? Encoding.UTF8.GetString(correlation) : result.Header.CorrelationId;
        if (_pending.TryGetValue(correlationId, out var pending) && pending.DeviceId == message.DeviceId)
            pending.Completion.TrySetResult(result);
        else
            Interlocked.Increment(ref _unmatched);
        return true;
    }

    private sealed record Pending(string DeviceId, TaskCompletionSource<MessageBundle<InferenceResultHeader>> Completion);
}
