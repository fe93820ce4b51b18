using System.ComponentModel.DataAnnotations;

namespace EdgeLam.Agent;

/// <summary>Bound from the "Agent" configuration section (appsettings.json, EDGELAM_Agent__* variables, --Agent:Key=value).</summary>
public sealed class AgentOptions
{
    /// <summary>Configuration section name.</summary>
    public const string Section = "Agent";

    /// <summary>Device id: client id, user name and topic segment; 1..64 characters of [A-Za-z0-9_-].</summary>
    [Required, RegularExpression("^[A-Za-z0-9_-]{1,64}$")]
    public string DeviceId { get; set; } = string.Empty;

    /// <summary>Board profile: a path to a JSON file, or the id of a built-in profile (raspberry-pi-4, jetson-orin-nano, ...).</summary>
    [Required]
    public string Board { get; set; } = string.Empty;

    /// <summary>Broker host name or address.</summary>
    [Required]
    public string BrokerHost { get; set; } = "127.0.0.1";

    /// <summary>Broker TCP port.</summary>
    [Range(1, 65535)]
    public int BrokerPort { get; set; } = 1883;

    /// <summary>MQTT user name; the broker requires it to equal the device id.</summary>
    public string? UserName { get; set; }

    /// <summary>MQTT password of the enrolled device.</summary>
    public string? Password { get; set; }

    /// <summary>MQTT over TLS to the broker; the broker's certificate must chain to <see cref="TrustedCaPath"/>.</summary>
    public bool UseTls { get; set; }

    /// <summary>PEM file of the CA (or the self-signed broker certificate, the gateway's broker.crt) trusted for the broker.</summary>
    public string? TrustedCaPath { get; set; }

    /// <summary>This device's client certificate (PFX, CN = device id) when the broker requires client certificates.</summary>
    public string? ClientCertificatePath { get; set; }

    /// <summary>Password of <see cref="ClientCertificatePath"/>.</summary>
    public string? ClientCertificatePassword { get; set; }

    /// <summary>First reconnect delay; doubles per failed attempt up to <see cref="ReconnectMaximumDelay"/>.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:10:00")]
    public TimeSpan ReconnectInitialDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Longest reconnect delay.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "01:00:00")]
    public TimeSpan ReconnectMaximumDelay { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>How long the broker keeps this device's session (subscriptions, queued QoS 1 messages) while it is away.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "7.00:00:00")]
    public TimeSpan SessionExpiry { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Time between heartbeats.</summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "01:00:00")]
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Model configuration of the frozen base: "default" (64-wide, 4 layers) or "tiny" (16-wide, 2 layers, for tests).</summary>
    [Required, RegularExpression("^(default|tiny)$")]
    public string ModelSize { get; set; } = "default";

    /// <summary>Seed of the base checkpoint: initialization, public slice and central pretraining (the gateway uses the same).</summary>
    public int BaseModelSeed { get; set; } = 1;

    /// <summary>Epochs of central pretraining over the public slice that produce the frozen base.</summary>
    [Range(1, 1000)]
    public int PretrainingEpochs { get; set; } = 4;

    /// <summary>Folder where the base checkpoint is cached (shared with the gateway and the firmware emulator).</summary>
    [Required]
    public string CheckpointDirectory { get; set; } = ".edgelam/checkpoints";

    /// <summary>LoRA alpha for assignments that name none; the device's scale is alpha / rank (Hu et al. 2021).</summary>
    [Range(0.001, 10_000)]
    public float LoraAlpha { get; set; } = 16f;

    /// <summary>Folder holding the Fashion-MNIST IDX gz files.</summary>
    [Required]
    public string DataDirectory { get; set; } = Model.Data.FashionMnist.DefaultDirectory;

    /// <summary>Images of the public slice (central pretraining only, never in a device shard); its shuffle is seeded by <see cref="BaseModelSeed"/>.</summary>
    [Range(1, 60_000)]
    public int PublicSliceCount { get; set; } = 6_000;

    /// <summary>Images split among devices after the public slice; 0 means all the rest.</summary>
    [Range(0, 60_000)]
    public int DevicePoolCount { get; set; }

    /// <summary>Shard used when an assignment does not say otherwise (the benchmark, logs): Dirichlet seed.</summary>
    public long ShardSeed { get; set; } = 1;

    /// <summary>Dirichlet concentration of the default shard.</summary>
    [Range(1e-6, 1000)]
    public double ShardAlpha { get; set; } = 0.5;

    /// <summary>Index of this device's default shard.</summary>
    [Range(0, 99_999)]
    public int ShardIndex { get; set; }

    /// <summary>Number of shards of the default split.</summary>
    [Range(1, 100_000)]
    public int ShardCount { get; set; } = 1;

    /// <summary>Sleep so that compute takes MACs / profile MAC/s when that is longer than this machine needs (emulated fleet).</summary>
    public bool PaceToBoardThroughput { get; set; }

    /// <summary>Above this temperature new work waits until the board has cooled by <see cref="ThrottleHysteresisCelsius"/>.</summary>
    [Range(0, 150)]
    public double ThrottleCelsius { get; set; } = 80;

    /// <summary>How far below the throttle threshold the board must cool before work resumes.</summary>
    [Range(0, 50)]
    public double ThrottleHysteresisCelsius { get; set; } = 5;

    /// <summary>How often a throttled agent reads the temperature again.</summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "00:10:00")]
    public TimeSpan ThrottlePollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Timed runs of the calibration at deployment (after two warm-up runs).</summary>
    [Range(1, 10_000)]
    public int CalibrationRuns { get; set; } = 20;

    /// <summary>Folder where variants deployed by url are downloaded (one subfolder per device) before ONNX Runtime loads them.</summary>
    [Required]
    public string ArtifactDirectory { get; set; } = ".edgelam/artifacts";

    /// <summary>Longest wait for one artifact request (headers or a chunk of the body).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan ArtifactTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>ONNX Runtime intra-op threads per variant session.</summary>
    [Range(1, 256)]
    public int InferenceThreads { get; set; } = 1;
}
