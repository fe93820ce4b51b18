namespace EdgeLam.Boards;

/// <summary>
/// One supported board as described by a file in hardware/boards: what it has, what it may run,
/// how fast and at what power. Built by <see cref="BoardProfileLoader"/>, which validates every field.
/// </summary>
public sealed record BoardProfile(
    string Id,
    string DisplayName,
    BoardTier Tier,
    CpuProfile Cpu,
    MemoryProfile Memory,
    IReadOnlyList<NumericPrecision> Precisions,
    AdaptationProfile Adaptation,
    BoardRuntime Runtime,
    IReadOnlyList<ExecutionProvider> ExecutionProviders,
    IReadOnlyDictionary<NumericPrecision, Figure<double>> MultiplyAccumulatesPerSecond,
    PowerProfile Power,
    GpioPinMap Gpio,
    NetworkProfile Network)
{
    public bool Supports(NumericPrecision precision) => Precisions.Contains(precision);

    /// <summary>Throughput in multiply-accumulates per second at a supported precision.</summary>
    public Figure<double> ThroughputAt(NumericPrecision precision) =>
        MultiplyAccumulatesPerSecond.TryGetValue(precision, out var figure)
            ? figure
            : throw new ArgumentException($"Board '{Id}' does not support precision {precision}.", nameof(precision));

    public override string ToString() => $"{Id} ({Tier.Letter()}-tier, {DisplayName})";
}

public sealed record CpuProfile(
    string Model,
    string Architecture,
    Figure<int> CoreCount,
    Figure<double> ClockMegahertz);

public sealed record MemoryProfile(
    Figure<long> RamBytes,
    Figure<long> PsramBytes,
    Figure<long> FlashBytes,
    Figure<long> ModelBudgetBytes,
    Figure<long> TrainingBudgetBytes);

/// <summary>What a board can adapt during LoRA training.</summary>
/// <param name="MaxAdaptedLayerCount">How many encoder layers, counted from the last, fit the training budget; null means every layer.</param>
public sealed record AdaptationProfile(
    Figure<int> MaxLoraRank,
    Figure<int>? MaxAdaptedLayerCount);

public sealed record PowerProfile(
    Figure<double> IdleWatts,
    Figure<double> BusyWatts);

public sealed record GpioPinMap(
    GpioPinNumbering PinNumbering,
    Figure<int> StatusLedPin,
    TemperatureSensorWiring TemperatureSensor);

/// <summary>An I2C temperature sensor wired to the board.</summary>
/// <param name="SerialDataPin">The I2C SDA pin.</param>
/// <param name="SerialClockPin">The I2C SCL pin.</param>
/// <param name="I2cAddress">The 7-bit bus address.</param>
public sealed record TemperatureSensorWiring(
    string Part,
    Figure<int> I2cBusId,
    Figure<int> SerialDataPin,
    Figure<int> SerialClockPin,
    Figure<int> I2cAddress);

public sealed record NetworkProfile(
    Figure<bool> WiFi,
    Figure<bool> Ethernet);
