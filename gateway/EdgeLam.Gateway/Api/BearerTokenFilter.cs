using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace EdgeLam.Gateway.Api;

/// <summary>Admits a mutating request only with "Authorization: Bearer &lt;Api:Token&gt;" (RFC 6750); otherwise 401 problem details.</summary>
public sealed class BearerTokenFilter(string token) : IEndpointFilter
{
    private readonly byte[] _expected = Encoding.UTF8.GetBytes(token);

    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        var header = context.HttpContext.Request.Headers.Authorization.ToString();
        const string scheme = "Bearer ";
        string? reason = null;
        if (header.Length == 0)
            reason = "This endpoint changes the gateway; send 'Authorization: Bearer <token>' with the token from Api:Token.";
        else if (!header.StartsWith(scheme, StringComparison.OrdinalIgnoreCase))
            reason = "The Authorization header must use the Bearer scheme.";
        // Fixed-time comparison so the response time does not reveal how much of a guess was right.
        else if (!CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(header[scheme.Length..].Trim()), _expected))
            reason = "The bearer token is not the gateway's API token.";

        if (reason is null) return await next(context).ConfigureAwait(false);
        context.HttpContext.Response.Headers.WWWAuthenticate = "Bearer realm=\"edgelam-gateway\"";
        return TypedResults.Problem(title: "Missing or invalid API token", detail: reason, statusCode: StatusCodes.Status401Unauthorized);
    }
}
