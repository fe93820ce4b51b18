using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace EdgeLam.Tests.Shared;

/// <summary>
/// A real Kestrel server on a free loopback port that serves one artifact with range support, and can drop the
/// connection of the first full request after half the body, as a flaky link would. It records every Range header.
/// </summary>
public sealed class ArtifactTestServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private int _dropsLeft;

    private ArtifactTestServer(WebApplication app, byte[] content, int drops)
    {
        _app = app;
        Content = content;
        _dropsLeft = drops;
    }

    public byte[] Content { get; }

    /// <summary>Range header of each request in arrival order ("" when none).</summary>
    public ConcurrentQueue<string> Ranges { get; } = new();

    public Uri Url { get; private set; } = null!;

    public static async Task<ArtifactTestServer> StartAsync(byte[] content, int dropFirstRequests)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var server = new ArtifactTestServer(app, content, dropFirstRequests);
        app.MapGet("/artifact", (Func<HttpContext, Task<IResult>>)server.ServeAsync);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        server.Url = new Uri(new Uri(address), "/artifact");
        return server;
    }

    private async Task<IResult> ServeAsync(HttpContext context)
    {
        Ranges.Enqueue(context.Request.Headers.Range.ToString());
        if (Interlocked.Decrement(ref _dropsLeft) >= 0)
        {
            // Promise the whole body, send half, then reset the connection.
            context.Response.ContentLength = Content.Length;
            await context.Response.Body.WriteAsync(Content.AsMemory(0, Content.Length / 2));
            await context.Response.Body.FlushAsync();
            // Let the half reach the client before the reset, so that there is something to resume from.
            await Task.Delay(100);
            context.Abort();
            return Results.Empty;
        }

        return Results.Bytes(Content, "application/octet-stream", enableRangeProcessing: true);
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
