using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using EdgeLam.Gateway.Broker;
using EdgeLam.Tests.Shared;

namespace EdgeLam.Reliability;

/// <summary>
/// `edgelam gateway` as an operating-system process of its own, so that a kill is a real SIGKILL: no finally block,
/// no disposal, no flush runs. Settings travel as environment variables; the round is started and watched through
/// the gateway's HTTP API.
/// </summary>
public sealed class GatewayProcess : IAsyncDisposable
{
    private const string ApiToken = "reliability-api-token-0123456789";
    private readonly Dictionary<string, string?> _settings;
    private readonly HttpClient _http;
    private readonly List<string> _output = [];
    private Process? _process;

    private GatewayProcess(string directory, Dictionary<string, string?> settings, int apiPort)
    {
        Directory = directory;
        _settings = settings;
        BrokerPort = int.Parse(settings["Broker:Port"]!, System.Globalization.CultureInfo.InvariantCulture);
        _http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{apiPort}"), Timeout = TimeSpan.FromSeconds(10) };
        _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", ApiToken);
    }

    public string Directory { get; }
    public int BrokerPort { get; }
    public string DatabasePath => Path.Combine(Directory, "gateway.db");

    /// <summary>The last lines the process wrote, for a failure message.</summary>
    public string OutputTail { get { lock (_output) return string.Join('\n', _output.TakeLast(20)); } }

    /// <summary>Enrols <paramref name="deviceIds"/> and the gateway itself in a fresh folder; the process is not started yet.</summary>
    public static GatewayProcess Create(IEnumerable<string> deviceIds, IReadOnlyDictionary<string, string?> settings)
    {
        var directory = Path.Combine(Path.GetTempPath(), "edgelam-gateway-process-" + Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(directory);
        var apiPort = Loopback.FreeTcpPort();
        var values = GatewayTestHost.Settings(directory, Loopback.FreeTcpPort(), settings, new Dictionary<string, string?>
        {
            ["Api:Urls"] = $"http://127.0.0.1:{apiPort}",
            ["Api:Token"] = ApiToken,
        });
        var credentials = new CredentialStore(values["Broker:CredentialsPath"]!);
        credentials.Enroll("gateway", ClientRole.Gateway, "change-me-gateway");
        foreach (var id in deviceIds) credentials.Enroll(id, ClientRole.Device, GatewayUnderTest.DevicePassword);
        return new GatewayProcess(directory, values, apiPort);
    }

    /// <summary>Starts the process and waits until its API answers (the broker is up before the API starts).</summary>
    public async Task StartAsync()
    {
        var start = new ProcessStartInfo("dotnet") { WorkingDirectory = Directory, RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(CliAssembly());
        start.ArgumentList.Add("gateway");
        foreach (var (key, value) in _settings) start.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        var process = Process.Start(start) ?? throw new InvalidOperationException("dotnet did not start");
        process.OutputDataReceived += (_, e) => Keep(e.Data);
        process.ErrorDataReceived += (_, e) => Keep(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;
        await FaultScenarios.WaitUntilAsync(() => process.HasExited || ReadApiAsync("/health").GetAwaiter().GetResult() is not null, TimeSpan.FromSeconds(60)).ConfigureAwait(false);
        if (process.HasExited) throw new InvalidOperationException($"edgelam gateway exited with {process.ExitCode}:\n{OutputTail}");
    }

    /// <summary>SIGKILL, then waits until the process is gone.</summary>
    public async Task KillAsync()
    {
        if (_process is not { HasExited: false } process) return;
        process.Kill(); // SIGKILL on Unix
        await process.WaitForExitAsync().ConfigureAwait(false);
    }

    public async Task<int> StartRoundAsync(string strategy)
    {
        using var response = await _http.PostAsJsonAsync("/api/training/rounds", new { strategy }).ConfigureAwait(false);
        var body = await response.Content.ReadAsStringAsync().ConfigureAwait(false);
        if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"starting a round: {(int)response.StatusCode} {body}");
        return JsonDocument.Parse(body).RootElement.GetProperty("round").GetInt32();
    }

    /// <summary>The state of <paramref name="round"/> as /api/rounds reports it (null: not listed, or the API did not answer).</summary>
    public async Task<string?> RoundStateAsync(int round) =>
        await ReadApiAsync("/api/rounds").ConfigureAwait(false) is { } rounds
            ? rounds.EnumerateArray().Where(r => r.GetProperty("round").GetInt32() == round).Select(r => r.GetProperty("state").GetString()).FirstOrDefault()
            : null;

    /// <summary>Updates the gateway's ledger counts as accepted (/api/ledger/totals); 0 when the API did not answer.</summary>
    public async Task<long> AcceptedUpdatesAsync() =>
        await ReadApiAsync("/api/ledger/totals").ConfigureAwait(false) is { } totals && totals.TryGetProperty("accepted", out var accepted) ? accepted.GetInt64() : 0;

    /// <summary>Devices the registry lists as online; 0 when the API did not answer.</summary>
    public async Task<int> OnlineDevicesAsync() =>
        await ReadApiAsync("/api/fleet").ConfigureAwait(false) is { } fleet
            ? fleet.EnumerateArray().Count(d => d.TryGetProperty("status", out var status) && status.GetString() == "online")
            : 0;

    /// <summary>The JSON of a successful GET, or null while the process is down, not answering or answering with an error.</summary>
    private async Task<JsonElement?> ReadApiAsync(string path)
    {
        try { return await _http.GetFromJsonAsync<JsonElement>(path).ConfigureAwait(false); }
        catch (HttpRequestException) { return null; }
        catch (TaskCanceledException) { return null; }
    }

    private void Keep(string? line)
    {
        if (line is null) return;
        lock (_output) _output.Add(line);
    }

    /// <summary>edgelam.dll: beside this assembly when `edgelam bench` runs it, else the CLI's build output in the same configuration.</summary>
    private static string CliAssembly()
    {
        var beside = Path.Combine(AppContext.BaseDirectory, "edgelam.dll");
        if (File.Exists(beside)) return beside;
        var configuration = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Release" : "Debug";
        var root = new DirectoryInfo(AppContext.BaseDirectory);
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "EdgeLamIoT.sln"))) root = root.Parent;
        var built = root is null ? null : Path.Combine(root.FullName, "gateway", "EdgeLam.Cli", "bin", configuration, "net10.0", "edgelam.dll");
        return built is not null && File.Exists(built) ? built
            : throw new FileNotFoundException($"edgelam.dll is neither beside {AppContext.BaseDirectory} nor built under gateway/EdgeLam.Cli/bin/{configuration}; build the CLI first");
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync().ConfigureAwait(false);
        _process?.Dispose();
        _http.Dispose();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try { System.IO.Directory.Delete(Directory, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
