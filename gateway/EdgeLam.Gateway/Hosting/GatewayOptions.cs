using System.ComponentModel.DataAnnotations;

namespace EdgeLam.Gateway.Hosting;

/// <summary>Bound from the "Gateway" section of appsettings.json.</summary>
public sealed class GatewayOptions
{
    public const string Section = "Gateway";

    /// <summary>SQLite database with rounds, contributions, the ledger and the unlearning audit.</summary>
    [Required]
    public string DatabasePath { get; set; } = ".edgelam/gateway.db";

    /// <summary>Shape of the model the fleet adapts; must match the devices' base model.</summary>
    [Range(1, 64)]
    public int ModelLayers { get; set; } = 4;

    [Range(1, 4096)]
    public int ModelDim { get; set; } = 64;

    [Range(1, 16384)]
    public int MlpDim { get; set; } = 128;

    [Range(1, 64)]
    public int Heads { get; set; } = 4;
}
