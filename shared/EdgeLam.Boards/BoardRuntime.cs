namespace EdgeLam.Boards;

/// <summary>The software that runs on a board; the JSON spells it "nanoframework" or "dotnet-agent".</summary>
public enum BoardRuntime
{
    /// <summary>The .NET nanoFramework application in firmware/mcu with its integer kernels.</summary>
    NanoFramework,

    /// <summary>The .NET agent in firmware/sbc running ONNX Runtime.</summary>
    DotnetAgent,
}

/// <summary>An ONNX Runtime execution provider; the JSON spells it "cpu" or "cuda".</summary>
public enum ExecutionProvider
{
    Cpu,
    Cuda,
}

/// <summary>How GPIO pin numbers are counted, as in System.Device.Gpio's PinNumberingScheme.</summary>
public enum GpioPinNumbering
{
    /// <summary>The SoC's own GPIO numbers (BCM numbers on a Raspberry Pi, GPIOn on an ESP32).</summary>
    Logical,

    /// <summary>Physical pin numbers of the board's header.</summary>
    Board,
}
