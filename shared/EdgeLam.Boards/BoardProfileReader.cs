using System.Text.RegularExpressions;

namespace EdgeLam.Boards;

/// <summary>Maps a parsed profile document onto <see cref="BoardProfile"/>, checking every field and the rules between fields.</summary>
internal static partial class BoardProfileReader
{
    private static readonly Dictionary<string, BoardTier> TierSpellings = new()
    {
        ["L"] = BoardTier.Low, ["M"] = BoardTier.Medium, ["H"] = BoardTier.High,
    };

    private static readonly Dictionary<string, NumericPrecision> PrecisionSpellings = new()
    {
        ["fp32"] = NumericPrecision.Fp32, ["fp16"] = NumericPrecision.Fp16, ["int8"] = NumericPrecision.Int8,
    };

    private static readonly Dictionary<string, FigureSource> SourceSpellings = new()
    {
        ["datasheet"] = FigureSource.Datasheet, ["measured"] = FigureSource.Measured, ["estimate"] = FigureSource.Estimate,
    };

    private static readonly Dictionary<string, BoardRuntime> RuntimeSpellings = new()
    {
        ["nanoframework"] = BoardRuntime.NanoFramework, ["dotnet-agent"] = BoardRuntime.DotnetAgent,
    };

    private static readonly Dictionary<string, ExecutionProvider> ProviderSpellings = new()
    {
        ["cpu"] = ExecutionProvider.Cpu, ["cuda"] = ExecutionProvider.Cuda,
    };

    private static readonly Dictionary<string, string> ArchitectureSpellings = new()
    {
        ["xtensa-lx6"] = "xtensa-lx6", ["xtensa-lx7"] = "xtensa-lx7", ["arm64"] = "arm64", ["x64"] = "x64",
    };

    private static readonly Dictionary<string, GpioPinNumbering> NumberingSpellings = new()
    {
        ["logical"] = GpioPinNumbering.Logical, ["board"] = GpioPinNumbering.Board,
    };

    [GeneratedRegex("^[a-z0-9]+(-[a-z0-9]+)*$")]
    private static partial Regex IdPattern();

    public static BoardProfile Read(ProfileElement root)
    {
        root.ExpectObject(BoardProfileFields.Root, [.. BoardProfileFields.Optional["$"]]);

        var idElement = root["id"];
        var id = idElement.NonEmptyString();
        if (!IdPattern().IsMatch(id))
            throw idElement.Fail($"must be lowercase words joined by '-' (found '{id}')");
        if (root.FileName.EndsWith(".json", StringComparison.OrdinalIgnoreCase) && Path.GetFileNameWithoutExtension(root.FileName) != id)
            throw idElement.Fail($"'{id}' must equal the file name without .json");

        var tier = root["tier"].OneOf(TierSpellings);
        var precisions = ReadPrecisions(root["precisions"]);
        var runtime = root["runtime"].OneOf(RuntimeSpellings);
        var profile = new BoardProfile(
            id,
            root["displayName"].NonEmptyString(),
            tier,
            ReadCpu(root["cpu"]),
            ReadMemory(root["memory"]),
            precisions,
            ReadAdaptation(root["adaptation"]),
            runtime,
            ReadExecutionProviders(root["executionProviders"], runtime),
            ReadThroughput(root["multiplyAccumulatesPerSecond"], precisions),
            ReadPower(root["power"]),
            ReadGpio(root["gpio"]),
            ReadNetwork(root["network"]));
        CheckTierRules(root, profile);
        return profile;
    }

    private static CpuProfile ReadCpu(ProfileElement cpu)
    {
        cpu.ExpectObject(BoardProfileFields.Cpu);
        return new CpuProfile(
            cpu["model"].NonEmptyString(),
            cpu["architecture"].OneOf(ArchitectureSpellings),
            IntegerFigure(cpu["coreCount"], minimum: 1),
            NumberFigure(cpu["clockMegahertz"]));
    }

    private static MemoryProfile ReadMemory(ProfileElement memory)
    {
        memory.ExpectObject(BoardProfileFields.Memory);
        var result = new MemoryProfile(
            LongFigure(memory["ramBytes"], minimum: 1),
            LongFigure(memory["psramBytes"], minimum: 0),
            LongFigure(memory["flashBytes"], minimum: 0),
            LongFigure(memory["modelBudgetBytes"], minimum: 1),
            LongFigure(memory["trainingBudgetBytes"], minimum: 1));
        var budgets = result.ModelBudgetBytes.Value + result.TrainingBudgetBytes.Value;
        var available = result.RamBytes.Value + result.PsramBytes.Value;
        if (budgets > available)
        {
            throw memory["modelBudgetBytes"].Fail(
                $"plus trainingBudgetBytes ({budgets} bytes) must fit in ramBytes plus psramBytes ({available} bytes)");
        }
        return result;
    }

    private static List<NumericPrecision> ReadPrecisions(ProfileElement precisions)
    {
        var result = new List<NumericPrecision>();
        foreach (var item in precisions.NonEmptyArray())
        {
            var precision = item.OneOf(PrecisionSpellings);
            if (result.Contains(precision))
                throw item.Fail($"repeats precision {precision}");
            result.Add(precision);
        }
        return result;
    }

    private static AdaptationProfile ReadAdaptation(ProfileElement adaptation)
    {
        adaptation.ExpectObject(BoardProfileFields.Adaptation, [.. BoardProfileFields.Optional["$.adaptation"]]);
        var layers = adaptation.Optional("maxAdaptedLayerCount");
        return new AdaptationProfile(
            IntegerFigure(adaptation["maxLoraRank"], minimum: 1),
            layers is { } present ? IntegerFigure(present, minimum: 1) : null);
    }

    private static List<ExecutionProvider> ReadExecutionProviders(ProfileElement providers, BoardRuntime runtime)
    {
        var result = new List<ExecutionProvider>();
        foreach (var item in providers.NonEmptyArray())
        {
            var provider = item.OneOf(ProviderSpellings);
            if (result.Contains(provider))
                throw item.Fail($"repeats execution provider {provider}");
            if (provider == ExecutionProvider.Cuda && runtime != BoardRuntime.DotnetAgent)
                throw item.Fail("cuda needs the dotnet-agent runtime");
            result.Add(provider);
        }
        return result.Contains(ExecutionProvider.Cpu) ? result : throw providers.Fail("must contain cpu, the fallback every board has");
    }

    private static Dictionary<NumericPrecision, Figure<double>> ReadThroughput(ProfileElement throughput, List<NumericPrecision> precisions)
    {
        foreach (var (name, property) in throughput.Properties())
        {
            if (!PrecisionSpellings.TryGetValue(name, out var precision))
                throw property.Fail($"is not a known precision (expected {string.Join(", ", PrecisionSpellings.Keys)})");
            if (!precisions.Contains(precision))
                throw property.Fail($"gives a throughput for {name}, which $.precisions does not list");
        }
        var result = new Dictionary<NumericPrecision, Figure<double>>();
        foreach (var precision in precisions)
        {
            var spelling = PrecisionSpellings.Single(pair => pair.Value == precision).Key;
            result[precision] = NumberFigure(throughput[spelling]);
        }
        return result;
    }

    private static PowerProfile ReadPower(ProfileElement power)
    {
        power.ExpectObject(BoardProfileFields.Power);
        var result = new PowerProfile(NumberFigure(power["idleWatts"]), NumberFigure(power["busyWatts"]));
        if (result.BusyWatts.Value < result.IdleWatts.Value)
            throw power["busyWatts"].Fail($"must not be below idleWatts ({result.BusyWatts.Value} < {result.IdleWatts.Value})");
        return result;
    }

    private static GpioPinMap ReadGpio(ProfileElement gpio)
    {
        gpio.ExpectObject(BoardProfileFields.Gpio);
        var sensor = gpio["temperatureSensor"].ExpectObject(BoardProfileFields.TemperatureSensor);
        var wiring = new TemperatureSensorWiring(
            sensor["part"].NonEmptyString(),
            IntegerFigure(sensor["i2cBusId"], minimum: 0),
            IntegerFigure(sensor["sdaPin"], minimum: 0),
            IntegerFigure(sensor["sclPin"], minimum: 0),
            IntegerFigure(sensor["i2cAddress"], minimum: 0));
        // 7-bit addresses 0x00-0x07 and 0x78-0x7F are reserved (NXP UM10204, I2C-bus specification, table 'Reserved addresses').
        if (wiring.I2cAddress.Value is < 0x08 or > 0x77)
            throw sensor["i2cAddress"]["value"].Fail($"must be a 7-bit address from 8 to 119 (found {wiring.I2cAddress.Value})");
        var pinMap = new GpioPinMap(gpio["pinNumbering"].OneOf(NumberingSpellings), IntegerFigure(gpio["statusLedPin"], minimum: 0), wiring);
        if (wiring.SerialDataPin.Value == wiring.SerialClockPin.Value)
            throw sensor["sclPin"].Fail($"must differ from sdaPin (both {wiring.SerialClockPin.Value})");
        if (pinMap.StatusLedPin.Value == wiring.SerialDataPin.Value || pinMap.StatusLedPin.Value == wiring.SerialClockPin.Value)
            throw gpio["statusLedPin"].Fail($"must differ from the I2C pins (found {pinMap.StatusLedPin.Value})");
        return pinMap;
    }

    private static NetworkProfile ReadNetwork(ProfileElement network)
    {
        network.ExpectObject(BoardProfileFields.Network);
        return new NetworkProfile(BooleanFigure(network["wifi"]), BooleanFigure(network["ethernet"]));
    }

    private static void CheckTierRules(ProfileElement root, BoardProfile profile)
    {
        var isLowTier = profile.Tier == BoardTier.Low;
        if (isLowTier != (profile.Runtime == BoardRuntime.NanoFramework))
            throw root["runtime"].Fail($"must be nanoframework exactly when the tier is L (tier {profile.Tier}, runtime {profile.Runtime})");
        if (!isLowTier)
            return;
        if (profile.Precisions is not [NumericPrecision.Int8])
            throw root["precisions"].Fail("must be [\"int8\"] for an L-tier board: the firmware has integer kernels only");
        if (profile.Adaptation.MaxAdaptedLayerCount is null)
            throw root["adaptation"].Fail("needs maxAdaptedLayerCount for an L-tier board: its memory limits which layers it adapts");
    }

    private static Figure<long> LongFigure(ProfileElement figure, long minimum)
    {
        figure.ExpectObject(BoardProfileFields.Figure);
        return new Figure<long>(figure["value"].Integer(minimum), Source(figure), Reference(figure));
    }

    private static Figure<int> IntegerFigure(ProfileElement figure, int minimum)
    {
        figure.ExpectObject(BoardProfileFields.Figure);
        var value = figure["value"].Integer(minimum);
        if (value > int.MaxValue)
            throw figure["value"].Fail($"must be at most {int.MaxValue} (found {value})");
        return new Figure<int>((int)value, Source(figure), Reference(figure));
    }

    private static Figure<double> NumberFigure(ProfileElement figure)
    {
        figure.ExpectObject(BoardProfileFields.Figure);
        return new Figure<double>(figure["value"].PositiveNumber(), Source(figure), Reference(figure));
    }

    private static Figure<bool> BooleanFigure(ProfileElement figure)
    {
        figure.ExpectObject(BoardProfileFields.Figure);
        return new Figure<bool>(figure["value"].Boolean(), Source(figure), Reference(figure));
    }

    private static FigureSource Source(ProfileElement figure) => figure["source"].OneOf(SourceSpellings);

    private static string Reference(ProfileElement figure) => figure["reference"].NonEmptyString();
}
