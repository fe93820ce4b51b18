using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace EdgeLam.Agent;

/// <summary>Checks of <see cref="AgentOptions"/> that attributes cannot state (cross-field rules).</summary>
public sealed class AgentOptionsValidation : IValidateOptions<AgentOptions>
{
    /// <inheritdoc/>
    public ValidateOptionsResult Validate(string? name, AgentOptions options)
    {
        var failures = Failures(options).ToList();
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    /// <summary>Runs the attribute and cross-field checks; throws <see cref="OptionsValidationException"/> naming each failure.</summary>
    public static void ThrowIfInvalid(AgentOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var results = new List<ValidationResult>();
        Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true);
        var failures = results.Select(result => $"Agent:{string.Join(",", result.MemberNames)}: {result.ErrorMessage}")
            .Concat(Failures(options)).ToList();
        if (failures.Count > 0)
            throw new OptionsValidationException(AgentOptions.Section, typeof(AgentOptions), failures);
    }

    private static IEnumerable<string> Failures(AgentOptions options)
    {
        if (options.ReconnectMaximumDelay < options.ReconnectInitialDelay)
            yield return $"Agent:ReconnectMaximumDelay ({options.ReconnectMaximumDelay}) is shorter than Agent:ReconnectInitialDelay ({options.ReconnectInitialDelay})";
        if (options.ShardIndex >= options.ShardCount)
            yield return $"Agent:ShardIndex {options.ShardIndex} must be below Agent:ShardCount {options.ShardCount}";
        if (options.UserName is not null && options.UserName != options.DeviceId)
            yield return $"Agent:UserName '{options.UserName}' must equal Agent:DeviceId '{options.DeviceId}' (the broker binds a device's identity to its client id)";
        if (options.UseTls && string.IsNullOrEmpty(options.TrustedCaPath))
            yield return "Agent:UseTls requires Agent:TrustedCaPath (a PEM file with the CA or the broker's own certificate)";
        if (!options.UseTls && !string.IsNullOrEmpty(options.ClientCertificatePath))
            yield return "Agent:ClientCertificatePath is set but Agent:UseTls is false";
    }
}
