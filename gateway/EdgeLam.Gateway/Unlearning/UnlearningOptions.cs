using System.ComponentModel.DataAnnotations;

namespace EdgeLam.Gateway.Unlearning;

/// <summary>Bound from the "Unlearning" section of appsettings.json.</summary>
public sealed class UnlearningOptions : IValidatableObject
{
    public const string Section = "Unlearning";

    /// <summary>Shortest operator key accepted (HMAC-SHA256 keys below 128 bits are refused by the signature code too).</summary>
    public const int MinimumSecretLength = 16;

    /// <summary>Key that operator commands are signed with; without it every unlearn command is refused.</summary>
    public string? CommandSecret { get; set; }

    /// <summary>Commands issued longer ago (or further ahead) than this are refused as replays.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan MaximumCommandAge { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Method used when a command does not name one.</summary>
    public string DefaultMethod { get; set; } = UnlearningMethodNames.Orthogonal;

    /// <summary>Training rounds with the remaining devices after the replay, for the calibrated method.</summary>
    [Range(0, 1000)]
    public int CalibrationRounds { get; set; } = 2;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (CommandSecret is { } secret && System.Text.Encoding.UTF8.GetByteCount(secret) < MinimumSecretLength)
            yield return new ValidationResult($"Unlearning:CommandSecret must have at least {MinimumSecretLength} bytes.", [nameof(CommandSecret)]);
        if (!UnlearningMethodNames.TryParse(DefaultMethod, out _))
            yield return new ValidationResult($"Unlearning:DefaultMethod '{DefaultMethod}' is not one of {string.Join(", ", UnlearningMethodNames.All)}.", [nameof(DefaultMethod)]);
    }
}
