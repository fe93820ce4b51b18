using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace EdgeLam.Cli.Tests.Browser;

/// <summary>
/// One DevTools Protocol connection to a page: commands are sent one at a time and their answer is matched by id;
/// events arriving in between are skipped, since no domain is enabled.
/// </summary>
public sealed class DevToolsSession : IAsyncDisposable
{
    private readonly ClientWebSocket _socket;
    private int _nextId;

    private DevToolsSession(ClientWebSocket socket) => _socket = socket;

    public static async Task<DevToolsSession> ConnectAsync(Uri pageSocket, CancellationToken cancellationToken)
    {
        var socket = new ClientWebSocket();
        // Screenshots come back as one base64 message of several megabytes.
        socket.Options.SetBuffer(1 << 16, 1 << 16);
        try
        {
            await socket.ConnectAsync(pageSocket, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        return new DevToolsSession(socket);
    }

    /// <summary>Sends <paramref name="method"/> and returns its result object; a protocol error becomes an exception naming the method.</summary>
    public async Task<JsonElement> SendAsync(string method, JsonObject? parameters, CancellationToken cancellationToken)
    {
        int id = ++_nextId;
        var command = new JsonObject { ["id"] = id, ["method"] = method, ["params"] = parameters ?? new JsonObject() };
        await _socket.SendAsync(Encoding.UTF8.GetBytes(command.ToJsonString()), WebSocketMessageType.Text, endOfMessage: true, cancellationToken).ConfigureAwait(false);
        while (true)
        {
            using var message = await ReceiveAsync(cancellationToken).ConfigureAwait(false);
            var root = message.RootElement;
            if (!root.TryGetProperty("id", out var answered) || answered.GetInt32() != id) continue;
            if (root.TryGetProperty("error", out var error))
                throw new InvalidOperationException($"DevTools {method} failed: {error.GetRawText()}");
            return root.GetProperty("result").Clone();
        }
    }

    public Task NavigateAsync(Uri url, CancellationToken cancellationToken) =>
        SendAsync("Page.navigate", new JsonObject { ["url"] = url.ToString() }, cancellationToken);

    /// <summary>Evaluates a JavaScript expression in the page and returns its value (awaiting a promise).</summary>
    public async Task<JsonElement> EvaluateAsync(string expression, CancellationToken cancellationToken)
    {
        var result = await SendAsync("Runtime.evaluate", new JsonObject { ["expression"] = expression, ["returnByValue"] = true, ["awaitPromise"] = true }, cancellationToken).ConfigureAwait(false);
        if (result.TryGetProperty("exceptionDetails", out var exception))
            throw new InvalidOperationException($"page script '{expression}' threw: {exception.GetRawText()}");
        var value = result.GetProperty("result");
        return value.TryGetProperty("value", out var plain) ? plain : default;
    }

    /// <summary>A PNG of the whole page, laid out at <paramref name="width"/> CSS pixels.</summary>
    public async Task<byte[]> CaptureScreenshotAsync(int width, CancellationToken cancellationToken)
    {
        var height = (await EvaluateAsync("document.documentElement.scrollHeight", cancellationToken).ConfigureAwait(false)).GetInt32();
        await SendAsync("Emulation.setDeviceMetricsOverride", new JsonObject { ["width"] = width, ["height"] = height, ["deviceScaleFactor"] = 1, ["mobile"] = false }, cancellationToken).ConfigureAwait(false);
        var shot = await SendAsync("Page.captureScreenshot", new JsonObject { ["format"] = "png", ["captureBeyondViewport"] = true }, cancellationToken).ConfigureAwait(false);
        return Convert.FromBase64String(shot.GetProperty("data").GetString()!);
    }

    private async Task<JsonDocument> ReceiveAsync(CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[1 << 16];
        while (true)
        {
            var received = await _socket.ReceiveAsync(chunk, cancellationToken).ConfigureAwait(false);
            if (received.MessageType == WebSocketMessageType.Close)
                throw new InvalidOperationException("Chromium closed the DevTools connection.");
            buffer.Write(chunk, 0, received.Count);
            if (received.EndOfMessage) break;
        }

        buffer.Position = 0;
        return await JsonDocument.ParseAsync(buffer, cancellationToken: cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (_socket.State == WebSocketState.Open)
                await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None).ConfigureAwait(false);
        }
        catch (WebSocketException) { }
        _socket.Dispose();
    }
}
