using System.Diagnostics.CodeAnalysis;

namespace EdgeLam.Gateway.Unlearning;

/// <summary>
/// The operator command carries no method field, so an unlearn command names its method in its signed
/// command id: "unlearn.{method}.{unique}". Any other id means the gateway's default method.
/// </summary>
public static class UnlearnCommandId
{
    private const string Prefix = "unlearn.";

    public static string Create(UnlearningMethod method) =>
        $"{Prefix}{UnlearningMethodNames.NameOf(method)}.{Guid.NewGuid():N}";

    public static bool TryGetMethod(string commandId, [NotNullWhen(true)] out UnlearningMethod? method)
    {
        method = null;
        if (commandId is null || !commandId.StartsWith(Prefix, StringComparison.Ordinal))
            return false;
        var rest = commandId[Prefix.Length..];
        var dot = rest.IndexOf('.', StringComparison.Ordinal);
        if (dot <= 0 || !UnlearningMethodNames.TryParse(rest[..dot], out var parsed))
            return false;
        method = parsed;
        return true;
    }
}
