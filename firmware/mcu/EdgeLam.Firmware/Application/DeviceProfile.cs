namespace EdgeLam.Firmware.Application;

/// <summary>What the device says in its hello (from its board profile) and where it connects.</summary>
public sealed class DeviceProfile
{
    /// <summary>Identity and capabilities; figures must be positive.</summary>
    public DeviceProfile(string deviceId, string boardId, string firmwareVersion, int maxLoraRank, long memoryBytes, long flashBytes, double multiplyAccumulatesPerSecond)
    {
        if (!EdgeLam.Contracts.Wire.Topics.IsValidDeviceId(deviceId))
        {
            throw new System.ArgumentException("device id must be 1..64 characters of [A-Za-z0-9_-], got '" + deviceId + "'", nameof(deviceId));
        }

        DeviceId = deviceId;
        BoardId = boardId;
        FirmwareVersion = firmwareVersion;
        MaxLoraRank = maxLoraRank;
        MemoryBytes = memoryBytes;
        FlashBytes = flashBytes;
        MultiplyAccumulatesPerSecond = multiplyAccumulatesPerSecond;
        HeartbeatIntervalMilliseconds = 5000;
    }

    /// <summary>Device id, also the MQTT client id and user name.</summary>
    public string DeviceId { get; }

    /// <summary>Board profile id.</summary>
    public string BoardId { get; }

    /// <summary>Firmware version.</summary>
    public string FirmwareVersion { get; }

    /// <summary>Largest LoRA rank trained.</summary>
    public int MaxLoraRank { get; }

    /// <summary>RAM for the model, bytes.</summary>
    public long MemoryBytes { get; }

    /// <summary>Flash for stage blobs, bytes.</summary>
    public long FlashBytes { get; }

    /// <summary>Sustained int8 MAC/s.</summary>
    public double MultiplyAccumulatesPerSecond { get; }

    /// <summary>Milliseconds between heartbeats.</summary>
    public int HeartbeatIntervalMilliseconds { get; set; }

    /// <summary>
    /// Milliseconds of the int8 throughput benchmark run once at start (0: none); when set, the hello announces the
    /// measured MAC/s instead of <see cref="MultiplyAccumulatesPerSecond"/>.
    /// </summary>
    public int BenchmarkMillisecondsAtStart { get; set; }
}
