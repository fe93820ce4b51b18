using System.ComponentModel.DataAnnotations;

namespace EdgeLam.Gateway.Inference;

/// <summary>Options of the inference room ("Inference" section).</summary>
public sealed class InferenceOptions
{
    public const string Section = "Inference";

    /// <summary>Strategy used when a request names none.</summary>
    public InferenceStrategy Strategy { get; set; } = InferenceStrategy.DriftPlusPenalty;

    /// <summary>V of drift-plus-penalty: weight of the performance cost against queue backlog.</summary>
    [Range(0, 1e9)]
    public double Tradeoff { get; set; } = 10;

    /// <summary>Weight of one millisecond of compute in the performance cost.</summary>
    [Range(0, 1e6)]
    public double LatencyWeight { get; set; } = 1;

    /// <summary>Weight of one modelled millijoule in the performance cost.</summary>
    [Range(0, 1e6)]
    public double EnergyWeight { get; set; } = 0.1;

    /// <summary>Longest wait for one stage result before the task goes to another candidate.</summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:10:00")]
    public TimeSpan StageTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Dispatches of one stage task before the request fails.</summary>
    [Range(1, 10)]
    public int MaxAttemptsPerStage { get; set; } = 3;

    /// <summary>Modelled WAN round trip of the cloud baseline (a model parameter, not a measurement).</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:01:00")]
    public TimeSpan ModelledWanRoundTrip { get; set; } = TimeSpan.FromMilliseconds(80);

    /// <summary>Modelled WAN bandwidth of the cloud baseline, megabits per second; the image goes up and the logits come back at this rate (0: transfer time not modelled).</summary>
    [Range(0, 1e6)]
    public double ModelledWanMegabitsPerSecond { get; set; }

    /// <summary>Devices that hold each stage (each device its share of the model); 0 places every stage on every device that can hold it.</summary>
    [Range(0, 64)]
    public int StageReplicas { get; set; }

    /// <summary>Accuracy floor a partitioned placement sizes its variants to: each stage in one variant, the smallest chain whose accuracy estimate keeps it.</summary>
    [Range(0, 1)]
    public double PlacementMinimumAccuracy { get; set; }

    /// <summary>Served requests kept in memory for reports.</summary>
    [Range(0, 1_000_000)]
    public int RecordsKept { get; set; } = 10_000;
}
