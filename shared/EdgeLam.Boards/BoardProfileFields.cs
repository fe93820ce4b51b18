namespace EdgeLam.Boards;

/// <summary>
/// The JSON property names of a board profile, keyed by the JSON path of the object that holds them.
/// hardware/boards/board-profile.schema.json lists the same required names; a test compares the two.
/// </summary>
public static class BoardProfileFields
{
    /// <summary>Key under <see cref="Required"/> for the properties every figure object has.</summary>
    public const string FigureKey = "figure";

    public static IReadOnlyList<string> Root { get; } =
    [
        "id", "displayName", "tier", "cpu", "memory", "precisions", "adaptation", "runtime",
        "executionProviders", "multiplyAccumulatesPerSecond", "power", "gpio", "network",
    ];

    public static IReadOnlyList<string> Cpu { get; } = ["model", "architecture", "coreCount", "clockMegahertz"];

    public static IReadOnlyList<string> Memory { get; } =
        ["ramBytes", "psramBytes", "flashBytes", "modelBudgetBytes", "trainingBudgetBytes"];

    public static IReadOnlyList<string> Adaptation { get; } = ["maxLoraRank"];

    public static IReadOnlyList<string> Power { get; } = ["idleWatts", "busyWatts"];

    public static IReadOnlyList<string> Gpio { get; } = ["pinNumbering", "statusLedPin", "temperatureSensor"];

    public static IReadOnlyList<string> TemperatureSensor { get; } = ["part", "i2cBusId", "sdaPin", "sclPin", "i2cAddress"];

    public static IReadOnlyList<string> Network { get; } = ["wifi", "ethernet"];

    public static IReadOnlyList<string> Figure { get; } = ["value", "source", "reference"];

    /// <summary>Optional property names by JSON path; objects not listed have none.</summary>
    public static IReadOnlyDictionary<string, IReadOnlyList<string>> Optional { get; } =
        new Dictionary<string, IReadOnlyList<string>>
        {
            ["$"] = ["$schema"],
            ["$.adaptation"] = ["maxAdaptedLayerCount"],
        };

    /// <summary>Required property names by JSON path ("$", "$.cpu", ...), plus <see cref="FigureKey"/>.</summary>
    public static IReadOnlyDictionary<string, IReadOnlyList<string>> Required { get; } =
        new Dictionary<string, IReadOnlyList<string>>
        {
            ["$"] = Root,
            ["$.cpu"] = Cpu,
            ["$.memory"] = Memory,
            ["$.adaptation"] = Adaptation,
            ["$.power"] = Power,
            ["$.gpio"] = Gpio,
            ["$.gpio.temperatureSensor"] = TemperatureSensor,
            ["$.network"] = Network,
            [FigureKey] = Figure,
        };
}
