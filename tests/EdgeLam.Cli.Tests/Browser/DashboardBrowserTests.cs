using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using EdgeLam.Cli.Demo;
using EdgeLam.Gateway.Api;
using EdgeLam.Model.Architecture;
using EdgeLam.Model.Checkpoints;
using EdgeLam.Model.Data;
using Xunit.Abstractions;

namespace EdgeLam.Cli.Tests.Browser;

/// <summary>
/// The dashboard in a real headless Chromium against a real gateway and emulated fleet (one Jetson agent, one Pi agent,
/// one ESP32 emulator): every device is listed, and a round started over the API shows up live, without a reload.
/// </summary>
public sealed class DashboardBrowserTests(ITestOutputHelper output) : IDisposable
{
    private const string Token = "dashboard-browser-token-0123456789";
    private const string LoadMarker = "window.__edgelamLoadMarker";
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "edgelam-dashboard-test-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try { Directory.Delete(_directory, recursive: true); } catch (IOException) { }
    }

    [Fact]
    public async Task The_dashboard_lists_the_fleet_and_shows_a_new_round_without_reloading()
    {
        var chromium = HeadlessChromium.FindExecutable();
        Assert.True(chromium is not null,
            $"Chromium is required for the dashboard browser test and was not found at {HeadlessChromium.ExecutablePath} or on PATH; install it with: apt-get install -y chromium");
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(300)); // starting three devices alongside the other test projects on 2 cores can take minutes
        var cancellationToken = timeout.Token;

        var data = FashionMnist.Load();
        var settings = DemoSettings.Quick with { CheckpointDirectory = RepositoryRoot.CheckpointCache, LocalSteps = 2, RoundTimeout = TimeSpan.FromSeconds(60) };
        var checkpoint = BaseCheckpoint.LoadOrTrain(new TinyVitConfig(), settings.Seed, settings.CheckpointDirectory, data: data, cancellationToken: cancellationToken);
        var spec = new FleetSpec("dashboard browser test",
        [
            new FleetSpecDevice("jetson-1", "jetson-orin-nano", 0),
            new FleetSpecDevice("pi-1", "raspberry-pi-4", 1),
            new FleetSpecDevice("esp32-1", "esp32-wrover", 2),
        ]);
        var boards = Path.Combine(RepositoryRoot.Path, "hardware", "boards");
        await using var fleet = await DemoFleet.StartAsync(spec, boards, _directory, checkpoint, data, settings, cancellationToken,
            ["--Api:Enabled=true", "--Api:Urls=http://127.0.0.1:0", $"--Api:Token={Token}"]);
        var dashboard = Assert.Single(fleet.Get<GatewayApiHost>().Addresses);

        await using var browser = await HeadlessChromium.LaunchAsync(chromium, cancellationToken);
        await using var page = await browser.OpenPageAsync(cancellationToken);
        await page.NavigateAsync(dashboard, cancellationToken);
        await WaitForAsync(page, "document.readyState === 'complete' && document.getElementById('fleet') !== null", "the dashboard to load", cancellationToken);
        // A variable set once after load disappears if the page reloads; the navigation count must stay at one too.
        await page.EvaluateAsync($"{LoadMarker} = 'loaded once'", cancellationToken);

        var fleetIds = string.Join(",", spec.Devices.Select(d => $"'{d.Id}'"));
        await WaitForAsync(page, $"[{fleetIds}].every(id => [...document.querySelectorAll('#fleet tbody tr')].some(r => r.cells[0].textContent === id))",
            "every device id in the fleet table", cancellationToken);
        // The round must reach the page through the event stream, so the stream has to be open before it starts.
        await WaitForAsync(page, "document.getElementById('stream-state').textContent === 'events: live'", "the event stream open", cancellationToken);

        int round = await StartRoundAsync(dashboard, cancellationToken);
        var roundState = $"[...document.querySelectorAll('#rounds tbody tr')].filter(r => r.cells[0].textContent === '{round}').map(r => r.cells[2].textContent)[0] ?? null";
        await WaitForAsync(page, $"({roundState}) !== null", $"round {round} in the rounds table", cancellationToken);
        await WaitForAsync(page, $"({roundState}) === 'completed'", $"round {round} to be shown completed", cancellationToken);

        Assert.Equal("loaded once", (await page.EvaluateAsync(LoadMarker, cancellationToken)).GetString());
        Assert.Equal(1, (await page.EvaluateAsync("performance.getEntriesByType('navigation').length", cancellationToken)).GetInt32());
        var rows = await page.EvaluateAsync("[...document.querySelectorAll('#fleet tbody tr')].map(r => r.cells[0].textContent + ' ' + r.cells[3].textContent)", cancellationToken);
        Assert.All(rows.EnumerateArray(), row => Assert.EndsWith("online", row.GetString(), StringComparison.Ordinal));

        await SaveScreenshotAsync(page, cancellationToken);
    }

    private static async Task<int> StartRoundAsync(Uri dashboard, CancellationToken cancellationToken)
    {
        using var http = new HttpClient { BaseAddress = dashboard };
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/training/rounds") { Content = JsonContent.Create(new { strategy = "fedft_h" }) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Token);
        using var response = await http.SendAsync(request, cancellationToken);
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        Assert.True(response.StatusCode == System.Net.HttpStatusCode.Accepted, $"starting a round answered {(int)response.StatusCode}: {body}");
        return JsonDocument.Parse(body).RootElement.GetProperty("round").GetInt32();
    }

    /// <summary>Polls a page expression until it is true; the page is never reloaded while waiting.</summary>
    private static async Task WaitForAsync(DevToolsSession page, string condition, string what, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            var value = await page.EvaluateAsync($"Boolean({condition})", cancellationToken);
            if (value.ValueKind == JsonValueKind.True) return;
            if (DateTime.UtcNow > deadline)
            {
                var text = await page.EvaluateAsync("document.body ? document.body.innerText : ''", cancellationToken);
                Assert.Fail($"the dashboard did not show {what} within 60 s; the page reads:{Environment.NewLine}{text.GetString()}");
            }

            await Task.Delay(250, cancellationToken);
        }
    }

    private async Task SaveScreenshotAsync(DevToolsSession page, CancellationToken cancellationToken)
    {
        var png = await page.CaptureScreenshotAsync(1400, cancellationToken);
        Assert.True(png.Length > 8 && png[1] == (byte)'P' && png[2] == (byte)'N' && png[3] == (byte)'G', "Page.captureScreenshot did not return a PNG");
        var paths = new List<string> { Path.Combine(AppContext.BaseDirectory, "dashboard.png") };
        if (Environment.GetEnvironmentVariable("EDGELAM_SCREENSHOT") is { Length: > 0 } requested) paths.Add(Path.GetFullPath(requested));
        foreach (var path in paths)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            await File.WriteAllBytesAsync(path, png, cancellationToken);
            output.WriteLine($"dashboard screenshot: {path} ({png.Length} bytes)");
        }
    }
}
