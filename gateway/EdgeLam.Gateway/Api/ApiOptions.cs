using System.ComponentModel.DataAnnotations;

namespace EdgeLam.Gateway.Api;

/// <summary>Bound from the "Api" section: the gateway's HTTP API, dashboard and artifact server.</summary>
public sealed class ApiOptions : IValidatableObject
{
    public const string Section = "Api";

    /// <summary>When false nothing listens; the gateway runs MQTT only.</summary>
    public bool Enabled { get; set; }

    /// <summary>Kestrel listen addresses, separated by ';' (port 0 picks a free port).</summary>
    [Required]
    public string Urls { get; set; } = "http://127.0.0.1:8080";

    /// <summary>
    /// Base URL devices use to download artifacts (e.g. http://192.168.1.10:8080); empty means the first listen address,
    /// with a wildcard host (0.0.0.0, [::], +, *) replaced by this machine's host name.
    /// </summary>
    public string? ArtifactBaseUrl { get; set; }

    /// <summary>Bearer token that mutating endpoints require (Authorization: Bearer &lt;token&gt;).</summary>
    public string? Token { get; set; }

    /// <summary>Shortest token accepted, so that a placeholder such as "x" cannot guard training and unlearning.</summary>
    public const int MinimumTokenLength = 16;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!Enabled) yield break;
        if (string.IsNullOrWhiteSpace(Token) || Token.Length < MinimumTokenLength)
            yield return new ValidationResult($"Api:Token must be set to at least {MinimumTokenLength} characters when Api:Enabled is true; it guards the mutating endpoints.", [nameof(Token)]);
        if (!string.IsNullOrWhiteSpace(ArtifactBaseUrl) && (!Uri.TryCreate(ArtifactBaseUrl, UriKind.Absolute, out var artifactBase) || (artifactBase.Scheme != Uri.UriSchemeHttp && artifactBase.Scheme != Uri.UriSchemeHttps)))
            yield return new ValidationResult($"Api:ArtifactBaseUrl '{ArtifactBaseUrl}' is not an absolute http or https URL.", [nameof(ArtifactBaseUrl)]);
        foreach (var url in Urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
                yield return new ValidationResult($"Api:Urls entry '{url}' is not an absolute http or https URL.", [nameof(Urls)]);
        }
    }
}
