using System.Reflection;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace EdgeLam.Gateway.Api;

/// <summary>The dashboard page and its script and style, embedded in the gateway assembly so no web root has to be deployed.</summary>
public static class DashboardAssets
{
    private static readonly (string Route, string Resource, string ContentType)[] Assets =
    [
        ("/", "wwwroot/index.html", "text/html; charset=utf-8"),
        ("/app.js", "wwwroot/app.js", "text/javascript; charset=utf-8"),
        ("/style.css", "wwwroot/style.css", "text/css; charset=utf-8"),
    ];

    public static void Map(IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        foreach (var (route, resource, contentType) in Assets)
        {
            var content = Read(resource);
            endpoints.MapGet(route, () => TypedResults.Bytes(content, contentType));
        }
    }

    /// <summary>Reads one embedded asset; a missing one is a build mistake, reported by its name.</summary>
    public static byte[] Read(string resource)
    {
        using var stream = typeof(DashboardAssets).Assembly.GetManifestResourceStream(resource)
            ?? throw new InvalidOperationException($"Dashboard asset '{resource}' is not embedded in {typeof(DashboardAssets).Assembly.GetName().Name}.");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }
}
