using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using EdgeLam.Contracts.Messages;
using EdgeLam.Contracts.Wire;
using EdgeLam.Gateway.Api;
using EdgeLam.Gateway.Fleet;
using EdgeLam.Gateway.Tests.Rounds;

namespace EdgeLam.Gateway.Tests.Api;

/// <summary>The HTTP API of a whole gateway host on a free loopback port, with a real device over MQTT.</summary>
public sealed class GatewayApiTests : IAsyncLifetime, IDisposable
{
    private const string Token = "test-api-token-0123456789";
    private const string DeviceId = "pi-api-1";
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);
    private GatewayHarness _gateway = null!;
    private HttpClient _http = null!;

    public async Task InitializeAsync()
    {
        _gateway = await GatewayHarness.StartAsync([DeviceId], new Dictionary<string, string?>
        {
            ["Api:Enabled"] = "true",
            ["Api:Urls"] = "http://127.0.0.1:0",
            ["Api:Token"] = Token,
        });
        var address = Assert.Single(_gateway.Get<GatewayApiHost>().Addresses);
        Assert.NotEqual(0, address.Port);
        _http = new HttpClient { BaseAddress = address, Timeout = Patience };
    }

    public async Task DisposeAsync() => await _gateway.DisposeAsync();

    public void Dispose() => _http?.Dispose();

    [Fact]
    public async Task Health_and_fleet_show_a_device_after_its_hello_and_the_event_stream_reports_it()
    {
        using var health = await _http.GetAsync(new Uri("/health", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.Equal("healthy", (await health.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("status").GetString());

        using var events = await _http.GetAsync(new Uri("/api/events", UriKind.Relative), HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal("text/event-stream", events.Content.Headers.ContentType?.MediaType);
        using var reader = new StreamReader(await events.Content.ReadAsStreamAsync());
        Assert.Equal("event: connected", await reader.ReadLineAsync().WaitAsync(Patience));

        var registered = new TaskCompletionSource<FleetDevice>(TaskCreationOptions.RunContinuationsAsynchronously);
        _gateway.Get<DeviceRegistry>().DeviceOnline += d => registered.TrySetResult(d);
        var device = await _gateway.ConnectDeviceAsync(DeviceId);
        await GatewayHarness.PublishAsync(device, Topics.Device(DeviceId, DeviceTopic.Hello),
            WireMessages.Encode(GatewayHarness.Hello(DeviceId, "raspberry-pi-4b", DeviceTier.M, 8, Precision.Fp32, Precision.Fp16)));
        await registered.Task.WaitAsync(Patience);

        var fleet = await _http.GetFromJsonAsync<JsonElement>(new Uri("/api/fleet", UriKind.Relative));
        var member = Assert.Single(fleet.EnumerateArray());
        Assert.Equal(DeviceId, member.GetProperty("deviceId").GetString());
        Assert.Equal("raspberry-pi-4b", member.GetProperty("boardId").GetString());
        Assert.Equal("online", member.GetProperty("status").GetString());
        Assert.Equal(8, member.GetProperty("maxLoraRank").GetInt32());

        string? line;
        do line = await reader.ReadLineAsync().WaitAsync(Patience);
        while (line is not null && line != "event: device-registered");
        var data = await reader.ReadLineAsync().WaitAsync(Patience);
        Assert.StartsWith("data: ", data, StringComparison.Ordinal);
        Assert.Equal(DeviceId, JsonDocument.Parse(data!["data: ".Length..]).RootElement.GetProperty("deviceId").GetString());
        device.Dispose();
    }

    [Fact]
    public async Task Mutating_endpoints_refuse_requests_without_the_token_with_problem_details()
    {
        using var missing = await _http.PostAsJsonAsync(new Uri("/api/training/rounds", UriKind.Relative), new { strategy = "fedft_h" });
        await AssertProblemAsync(missing, HttpStatusCode.Unauthorized, "Missing or invalid API token");
        Assert.Contains("Bearer", missing.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);

        using var wrong = new HttpRequestMessage(HttpMethod.Post, new Uri("/api/unlearning", UriKind.Relative))
        {
            Content = JsonContent.Create(new { deviceId = DeviceId, method = "subtract" }),
        };
        wrong.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "not-the-token-at-all");
        using var refused = await _http.SendAsync(wrong);
        await AssertProblemAsync(refused, HttpStatusCode.Unauthorized, "Missing or invalid API token");
        Assert.Empty(_gateway.Get<EdgeLam.Gateway.Persistence.GatewayStore>().UnlearningAudit());
    }

    [Fact]
    public async Task Training_round_request_with_the_token_is_accepted_with_its_round_number()
    {
        using var unknown = await PostWithTokenAsync("/api/training/rounds", new { strategy = "no-such-strategy" });
        var problem = await AssertProblemAsync(unknown, HttpStatusCode.BadRequest, "Unknown training strategy");
        Assert.Contains("no-such-strategy", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);

        var strategy = EdgeLam.Gateway.Training.Strategies.StrategyCatalog.Names[^1];
        using var accepted = await PostWithTokenAsync("/api/training/rounds", new { strategy });
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        var body = await accepted.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(1, body.GetProperty("round").GetInt32());
        Assert.Equal(strategy, body.GetProperty("strategy").GetString());

        await _gateway.Get<TrainingRoundLauncher>().Running.WaitAsync(Patience);
        var rounds = await _http.GetFromJsonAsync<JsonElement>(new Uri("/api/rounds", UriKind.Relative));
        var round = Assert.Single(rounds.EnumerateArray());
        Assert.Equal(1, round.GetProperty("round").GetInt32());
        Assert.Equal(strategy, round.GetProperty("strategy").GetString());
    }

    [Fact]
    public async Task Unlearning_request_with_the_token_names_what_is_wrong_with_it()
    {
        using var method = await PostWithTokenAsync("/api/unlearning", new { deviceId = DeviceId, method = "forget-harder" });
        var problem = await AssertProblemAsync(method, HttpStatusCode.BadRequest, "Unknown unlearning method");
        Assert.Contains("subtract", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);

        using var device = await PostWithTokenAsync("/api/unlearning", new { deviceId = "never-seen", method = "subtract" });
        await AssertProblemAsync(device, HttpStatusCode.NotFound, "Unknown device");
    }

    [Fact]
    public async Task Inference_request_with_wrong_pixel_count_or_no_portfolio_gets_problem_details()
    {
        using var response = await PostWithTokenAsync("/api/inference", new { pixels = new float[784], minAccuracy = 0.5, maxLatencyMs = 1000, priority = 1 });
        // With no devices the portfolio is not placed: the orchestrator says so instead of answering.
        var problem = await AssertProblemAsync(response, HttpStatusCode.ServiceUnavailable, "Inference orchestrator not available");
        Assert.False(string.IsNullOrEmpty(problem.GetProperty("detail").GetString()));

        using var missing = await PostWithTokenAsync("/api/inference", new { minAccuracy = 0.5 });
        await AssertProblemAsync(missing, HttpStatusCode.BadRequest, "Missing pixels");
    }

    [Fact]
    public async Task Artifact_range_request_returns_206_with_the_requested_bytes_and_the_sha256_etag()
    {
        var blob = new byte[4096];
        new Random(7).NextBytes(blob);
        var sha256 = _gateway.Get<ArtifactStore>().Register(blob);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(blob)), sha256);

        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri($"/artifacts/{sha256}", UriKind.Relative));
        request.Headers.Range = new RangeHeaderValue(1000, 1999);
        using var partial = await _http.SendAsync(request);
        Assert.Equal(HttpStatusCode.PartialContent, partial.StatusCode);
        Assert.Equal($"\"{sha256}\"", partial.Headers.ETag?.Tag);
        Assert.Equal(blob[1000..2000], await partial.Content.ReadAsByteArrayAsync());
        Assert.Equal(4096, partial.Content.Headers.ContentRange?.Length);

        using var whole = await _http.GetAsync(new Uri($"/artifacts/{sha256.ToUpperInvariant()}", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, whole.StatusCode);
        Assert.Equal(blob, await whole.Content.ReadAsByteArrayAsync());

        using var unknown = await _http.GetAsync(new Uri($"/artifacts/{new string('0', 64)}", UriKind.Relative));
        await AssertProblemAsync(unknown, HttpStatusCode.NotFound, "Unknown artifact");
        using var malformed = await _http.GetAsync(new Uri("/artifacts/not-a-hash", UriKind.Relative));
        await AssertProblemAsync(malformed, HttpStatusCode.BadRequest, "Malformed artifact name");
    }

    [Fact]
    public async Task Dashboard_page_is_served_with_its_own_script_that_listens_to_the_event_stream()
    {
        var page = await _http.GetStringAsync(new Uri("/", UriKind.Relative));
        Assert.Contains("<script src=\"/app.js\"></script>", page, StringComparison.Ordinal);
        Assert.Contains("href=\"/style.css\"", page, StringComparison.Ordinal);
        Assert.DoesNotContain("https://", page, StringComparison.Ordinal);

        var script = await _http.GetStringAsync(new Uri("/app.js", UriKind.Relative));
        Assert.Contains("new EventSource(\"/api/events\")", script, StringComparison.Ordinal);
        foreach (var view in new[] { "/api/fleet", "/api/placements", "/api/inference", "/api/rounds", "/api/ledger/totals", "/api/unlearning/audit" })
        {
            Assert.Contains(view, script, StringComparison.Ordinal);
            using var response = await _http.GetAsync(new Uri(view, UriKind.Relative));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        using var style = await _http.GetAsync(new Uri("/style.css", UriKind.Relative));
        Assert.Equal("text/css", style.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Inference_view_has_backlog_per_device_and_an_empty_latency_histogram_before_any_request()
    {
        var view = await _http.GetFromJsonAsync<JsonElement>(new Uri("/api/inference", UriKind.Relative));
        Assert.Empty(view.GetProperty("decisions").EnumerateArray());
        var latency = view.GetProperty("latency");
        Assert.Equal(0, latency.GetProperty("requests").GetInt32());
        Assert.Equal(JsonValueKind.Null, latency.GetProperty("p50Milliseconds").ValueKind);
        var buckets = latency.GetProperty("buckets").EnumerateArray().ToArray();
        Assert.Equal(InferenceView.BucketBounds.Length, buckets.Length);
        Assert.Equal(JsonValueKind.Null, buckets[^1].GetProperty("upToMilliseconds").ValueKind);

        var distribution = InferenceView.Distribution([3, 7, 7, 150, 4000]);
        Assert.Equal((5, 7.0, 4000.0), (distribution.Requests, distribution.P50Milliseconds!.Value, distribution.P99Milliseconds!.Value));
        Assert.Equal([1, 2, 0, 0, 0, 1, 0, 0, 0, 1], distribution.Buckets.Select(b => b.Requests));
    }

    [Fact]
    public async Task Malformed_json_and_unknown_routes_get_problem_details()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri("/api/unlearning", UriKind.Relative))
        {
            Content = new StringContent("{ not json", System.Text.Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Token);
        using var malformed = await _http.SendAsync(request);
        Assert.Equal(HttpStatusCode.BadRequest, malformed.StatusCode);
        Assert.Equal("application/problem+json", malformed.Content.Headers.ContentType?.MediaType);

        using var unknown = await _http.GetAsync(new Uri("/api/no-such-view", UriKind.Relative));
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal("application/problem+json", unknown.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Prometheus_scrape_shows_the_fleet_and_training_gauges()
    {
        using var response = await _http.GetAsync(new Uri("/metrics", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var text = await response.Content.ReadAsStringAsync();
        Assert.Contains("edgelam_fleet_devices", text, StringComparison.Ordinal);
        Assert.Contains("status=\"online\"", text, StringComparison.Ordinal);
        Assert.Contains("edgelam_training_last_round", text, StringComparison.Ordinal);
    }

    private async Task<HttpResponseMessage> PostWithTokenAsync(string path, object body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(path, UriKind.Relative)) { Content = JsonContent.Create(body) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Token);
        return await _http.SendAsync(request);
    }

    private static async Task<JsonElement> AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status, string title)
    {
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(title, problem.GetProperty("title").GetString());
        Assert.Equal((int)status, problem.GetProperty("status").GetInt32());
        return problem;
    }
}
