namespace EdgeLam.Boards;

/// <summary>The software that runs on a board; the JSON spells it "nanoframework" or "dotnet-agent".</summary>
public enum BoardRuntime
{
    /// <summary>The .NET nanoFramework application in firmware/mcu with its integer kernels.</summary>
    NanoFramework,

    /// <summary>The .NET agent in firmware/sbc running ONNX Runtime.</summary>
    DotnetAgent,
}
