using EdgeLam.Model.Architecture;

namespace EdgeLam.Firmware.Emulator;

/// <summary>What one emulated L-tier device needs: its board profile, identity, broker and data.</summary>
public sealed record EmulatorLaunch
{
    /// <summary>Path of the board profile JSON (hardware/boards/esp32-wrover.json).</summary>
    public required string BoardPath { get; init; }

    /// <summary>Device id, also the MQTT client id and user name.</summary>
    public required string DeviceId { get; init; }

    public string BrokerHost { get; init; } = "127.0.0.1";
    public int BrokerPort { get; init; } = 1883;

    /// <summary>PEM file of the CA (or the broker's own certificate) to trust; when set the device connects with TLS.</summary>
    public string? TrustedCaPath { get; init; }

    /// <summary>MQTT user name; defaults to the device id.</summary>
    public string? UserName { get; init; }
    public string? Password { get; init; }

    /// <summary>Folder of the Fashion-MNIST IDX files (null: the Debian package's folder).</summary>
    public string? DataDirectory { get; init; }

    /// <summary>Folder that caches the base checkpoint.</summary>
    public string CheckpointDirectory { get; init; } = ".edgelam/checkpoints";

    /// <summary>Shape of the base model; the default is the project's tiny ViT.</summary>
    public TinyVitConfig ModelConfig { get; init; } = new();
    public int ModelSeed { get; init; } = 1;

    /// <summary>Most images of the device's shard used for training (the ESP32 keeps a small shard in flash).</summary>
    public int MaximumShardImages { get; init; } = 256;

    /// <summary>Share of the modelled compute time actually slept (1 = real time of the profile).</summary>
    public double PacingTimeScale { get; init; } = 1.0;

    public int HeartbeatIntervalMilliseconds { get; init; } = 5000;

    /// <summary>Milliseconds of the int8 throughput benchmark at start (0: none); the hello then announces the host's measured MAC/s.</summary>
    public int ThroughputBenchmarkMilliseconds { get; init; }

    /// <summary>Receive buffer of the MQTT client, bytes (largest packet accepted).</summary>
    public int ReceiveBufferBytes { get; init; } = 96 * 1024;

    public void Validate()
    {
        if (!EdgeLam.Contracts.Wire.Topics.IsValidDeviceId(DeviceId))
            throw new ArgumentException($"Device id '{DeviceId}' must be 1..64 characters of [A-Za-z0-9_-].", nameof(DeviceId));
        if (!File.Exists(BoardPath))
            throw new FileNotFoundException($"Board profile '{BoardPath}' does not exist.", BoardPath);
        if (BrokerPort is <= 0 or > 65535)
            throw new ArgumentOutOfRangeException(nameof(BrokerPort), BrokerPort, "Broker port must be 1..65535.");
        if (TrustedCaPath is not null && !File.Exists(TrustedCaPath))
            throw new FileNotFoundException($"Trusted CA file '{TrustedCaPath}' does not exist.", TrustedCaPath);
        if (MaximumShardImages <= 0)
            throw new ArgumentOutOfRangeException(nameof(MaximumShardImages), MaximumShardImages, "A shard needs at least one image.");
        if (ThroughputBenchmarkMilliseconds < 0)
            throw new ArgumentOutOfRangeException(nameof(ThroughputBenchmarkMilliseconds), ThroughputBenchmarkMilliseconds, "Benchmark milliseconds cannot be negative.");
        if (PacingTimeScale < 0)
            throw new ArgumentOutOfRangeException(nameof(PacingTimeScale), PacingTimeScale, "Pacing time scale cannot be negative.");
    }
}
