namespace EdgeLam.Boards;

/// <summary>Device tier of the FedFT-H design table; the JSON spells it "L", "M" or "H".</summary>
public enum BoardTier
{
    /// <summary>L-tier: ESP32 boards, nanoFramework firmware, INT8 only, LoRA rank 4.</summary>
    Low,

    /// <summary>M-tier: Raspberry Pi boards, .NET agent on ONNX Runtime CPU, LoRA rank 8.</summary>
    Medium,

    /// <summary>H-tier: Jetson boards, .NET agent on ONNX Runtime with CUDA, LoRA rank 16.</summary>
    High,
}

public static class BoardTierNames
{
    /// <summary>The letter the design table and the JSON use: "L", "M" or "H".</summary>
    public static string Letter(this BoardTier tier) =>
        tier switch
        {
            BoardTier.Low => "L",
            BoardTier.Medium => "M",
            BoardTier.High => "H",
            _ => throw new ArgumentOutOfRangeException(nameof(tier), tier, "Unknown board tier."),
        };
}
