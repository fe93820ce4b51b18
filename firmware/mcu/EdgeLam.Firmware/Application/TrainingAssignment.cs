using EdgeLam.Contracts.Wire;
using EdgeLam.Contracts.Wire.Json;

namespace EdgeLam.Firmware.Application;

/// <summary>The fields of an edgelam/v1/devices/{id}/assign message the device uses, read with the portable JSON reader.</summary>
public sealed class TrainingAssignment
{
    /// <summary>
    /// LoRA alpha of an assignment that names none (the contract's lora default); the gateway always sends its own,
    /// and the device's scale alpha / rank must equal the one the gateway de-quantizes with.
    /// </summary>
    public const float DefaultLoraAlpha = 16f;

    private TrainingAssignment()
    {
        Layers = new int[0];
        Precision = "int8";
        Mode = "lora";
        LoraAlpha = DefaultLoraAlpha;
    }

    /// <summary>"lora" (LoRA adapters) or "full" (every trainable weight).</summary>
    public string Mode { get; private set; }

    /// <summary>True for a full-model assignment.</summary>
    public bool TrainsFullModel => Mode == "full";

    /// <summary>LoRA alpha: the device's scale is alpha / rank.</summary>
    public float LoraAlpha { get; private set; }

    /// <summary>Round number.</summary>
    public int Round { get; private set; }

    /// <summary>LoRA rank.</summary>
    public int Rank { get; private set; }

    /// <summary>Encoder layers to adapt.</summary>
    public int[] Layers { get; private set; }

    /// <summary>Precision of the returned factors.</summary>
    public string Precision { get; private set; }

    /// <summary>Local optimizer steps.</summary>
    public int LocalSteps { get; private set; }

    /// <summary>Examples per step.</summary>
    public int BatchSize { get; private set; }

    /// <summary>Learning rate.</summary>
    public double LearningRate { get; private set; }

    /// <summary>Deadline, Unix milliseconds.</summary>
    public long DeadlineUnixMilliseconds { get; private set; }

    /// <summary>Seed of the Dirichlet split.</summary>
    public long PartitionSeed { get; private set; }

    /// <summary>This device's shard.</summary>
    public int PartitionIndex { get; private set; }

    /// <summary>Shards in the split.</summary>
    public int PartitionCount { get; private set; }

    /// <summary>Dirichlet concentration.</summary>
    public double DirichletAlpha { get; private set; }

    /// <summary>Parses and range-checks; a defect is a WireFormatException naming the field.</summary>
    public static TrainingAssignment Parse(byte[] json)
    {
        JsonObject message = JsonReader.ParseObject(json, 0, json.Length);
        var assignment = new TrainingAssignment();
        assignment.Round = message.GetInt32("round", 1, 1000000);
        if (message.Has("mode"))
        {
            assignment.Mode = message.GetChoice("mode", new string[] { "lora", "full" });
        }

        assignment.Rank = assignment.TrainsFullModel ? message.GetInt32("rank", 0, 0) : message.GetInt32("rank", 1, 64);
        if (message.Has("loraAlpha") && assignment.TrainsFullModel)
        {
            throw new WireFormatException(WireErrorCode.Inconsistent, "loraAlpha", "a full-model assignment has no LoRA alpha");
        }

        if (message.Has("loraAlpha"))
        {
            assignment.LoraAlpha = (float)message.GetDouble("loraAlpha", 1e-12, 1024);
        }

        assignment.Layers = message.GetArray("layers").ToInt32Array(0, 1000, 64);
        assignment.Precision = assignment.TrainsFullModel
            ? message.GetChoice("precision", new string[] { "fp32", "fp16" })
            : message.GetChoice("precision", new string[] { "fp32", "fp16", "int8" });
        assignment.LocalSteps = message.GetInt32("localSteps", 1, 100000);
        assignment.BatchSize = message.GetInt32("batchSize", 1, 4096);
        assignment.LearningRate = message.GetDouble("learningRate", 1e-12, 1);
        assignment.DeadlineUnixMilliseconds = message.GetInt64("deadlineUnixMilliseconds", 1, long.MaxValue);
        assignment.PartitionSeed = message.GetInt64("partitionSeed", long.MinValue, long.MaxValue);
        assignment.PartitionCount = message.GetInt32("partitionCount", 1, 100000);
        assignment.PartitionIndex = message.GetInt32("partitionIndex", 0, assignment.PartitionCount - 1);
        assignment.DirichletAlpha = message.GetDouble("dirichletAlpha", 1e-12, 1000);
        return assignment;
    }
}
