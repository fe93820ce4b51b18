using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;

namespace EdgeLam.Cli.Tests.Browser;

/// <summary>
/// A headless Chromium process with a throwaway profile, reached over the Chrome DevTools Protocol
/// (https://chromedevtools.github.io/devtools-protocol/); disposing it kills the browser and deletes the profile.
/// </summary>
public sealed class HeadlessChromium : IAsyncDisposable
{
    public const string ExecutablePath = "/usr/bin/chromium";
    private const string ListeningPrefix = "DevTools listening on ";
    private readonly Process _process;
    private readonly DirectoryInfo _profile;
    private Uri? _debuggingBase;

    private HeadlessChromium(Process process, DirectoryInfo profile)
    {
        _process = process;
        _profile = profile;
    }

    /// <summary>The Chromium to drive: /usr/bin/chromium (Debian package chromium), else the first chromium on PATH.</summary>
    public static string? FindExecutable()
    {
        if (File.Exists(ExecutablePath)) return ExecutablePath;
        var path = Environment.GetEnvironmentVariable("PATH") ?? string.Empty;
        return path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(folder => Path.Combine(folder, "chromium")).FirstOrDefault(File.Exists);
    }

    public static async Task<HeadlessChromium> LaunchAsync(string executable, CancellationToken cancellationToken)
    {
        var profile = Directory.CreateTempSubdirectory("edgelam-chromium-");
        var start = new ProcessStartInfo(executable)
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { "--headless=new", "--no-sandbox", "--disable-gpu", "--remote-debugging-port=0", $"--user-data-dir={profile.FullName}", "--window-size=1400,1000", "about:blank" })
            start.ArgumentList.Add(argument);
        var listening = new TaskCompletionSource<Uri>(TaskCreationOptions.RunContinuationsAsynchronously);
        var process = new Process { StartInfo = start };
        var stderr = new System.Collections.Concurrent.ConcurrentQueue<string>();
        // Chromium prints the browser endpoint on stderr; the rest of its output is drained so its pipe never fills.
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            stderr.Enqueue(e.Data);
            int at = e.Data.IndexOf(ListeningPrefix, StringComparison.Ordinal);
            if (at >= 0) listening.TrySetResult(new Uri(e.Data[(at + ListeningPrefix.Length)..].Trim()));
        };
        process.OutputDataReceived += (_, _) => { };
        process.Start();
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        var browser = new HeadlessChromium(process, profile);
        try
        {
            var endpoint = await listening.Task.WaitAsync(TimeSpan.FromSeconds(30), cancellationToken).ConfigureAwait(false);
            browser._debuggingBase = new Uri($"http://{endpoint.Host}:{endpoint.Port}/");
            return browser;
        }
        catch (Exception ex) when (ex is TimeoutException or OperationCanceledException)
        {
            await browser.DisposeAsync().ConfigureAwait(false);
            if (ex is OperationCanceledException) throw;
            throw new InvalidOperationException($"{executable} did not print '{ListeningPrefix}ws://...' within 30 s; its stderr:{Environment.NewLine}{string.Join(Environment.NewLine, stderr)}");
        }
    }

    /// <summary>
    /// Opens a new page target (PUT /json/new) and attaches a DevTools session to it. A loaded machine sometimes leaves
    /// the first socket handshake unanswered, so each attempt gets 15 s and a fresh target, three attempts in all.
    /// </summary>
    public async Task<DevToolsSession> OpenPageAsync(CancellationToken cancellationToken)
    {
        const int attempts = 3;
        for (int attempt = 1; ; attempt++)
        {
            using var attemptTimeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            attemptTimeout.CancelAfter(TimeSpan.FromSeconds(15));
            try
            {
                return await OpenPageOnceAsync(attemptTimeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested && attempt < attempts)
            {
                // the handshake stalled: try a fresh target
            }
        }
    }

    private async Task<DevToolsSession> OpenPageOnceAsync(CancellationToken cancellationToken)
    {
        using var http = new HttpClient { BaseAddress = _debuggingBase ?? throw new InvalidOperationException("Chromium is not listening."), Timeout = TimeSpan.FromSeconds(15) };
        using var response = await http.PutAsync(new Uri("json/new?about:blank", UriKind.Relative), null, cancellationToken).ConfigureAwait(false);
        response.EnsureSuccessStatusCode();
        var target = await response.Content.ReadFromJsonAsync<JsonElement>(cancellationToken).ConfigureAwait(false);
        var socketUrl = target.GetProperty("webSocketDebuggerUrl").GetString()
            ?? throw new InvalidOperationException("Chromium's /json/new answer has no webSocketDebuggerUrl.");
        return await DevToolsSession.ConnectAsync(new Uri(socketUrl), cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited) _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
        }
        catch (InvalidOperationException) { }
        catch (TimeoutException) { }
        _process.Dispose();
        try { _profile.Delete(recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
