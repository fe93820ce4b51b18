using System.Net.ServerSentEvents;
using EdgeLam.Gateway.Fleet;
using EdgeLam.Gateway.Inference;
using EdgeLam.Gateway.Persistence;
using EdgeLam.Gateway.Training.Rounds;
using StrategyCatalog = EdgeLam.Gateway.Training.Strategies.StrategyCatalog;
using EdgeLam.Gateway.Unlearning;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Hosting;

namespace EdgeLam.Gateway.Api;

/// <summary>The gateway's HTTP surface: read-only views, token-guarded operations, the event stream and artifacts.</summary>
public static class GatewayApiEndpoints
{
    public static void MapGatewayApi(this IEndpointRouteBuilder endpoints, string? token)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        endpoints.MapGet("/health", (TrainingCoordinator coordinator, DeviceRegistry registry) =>
            TypedResults.Ok(new { status = "healthy", devices = registry.Devices.Count, online = registry.OnlineDevices.Count, lastRound = coordinator.LastRound }));

        var api = endpoints.MapGroup("/api");
        api.MapGet("/fleet", (DeviceRegistry registry) => TypedResults.Ok(registry.Devices.Select(FleetDeviceView.From).ToArray()));
        api.MapGet("/rounds", (GatewayStore store) => TypedResults.Ok(store.Rounds().Select(RoundView.From).ToArray()));
        api.MapGet("/ledger/totals", (GatewayStore store) => TypedResults.Ok(store.LedgerTotals()));
        api.MapGet("/unlearning/audit", (GatewayStore store) => TypedResults.Ok(store.UnlearningAudit().Select(UnlearningAuditView.From).ToArray()));
        api.MapGet("/placements", (PlacementPlanner planner) => TypedResults.Ok(planner.Placements.Select(PlacementView.From).ToArray()));
        api.MapGet("/inference", (InferenceOrchestrator orchestrator, DeviceRegistry registry) => TypedResults.Ok(InferenceView.From(orchestrator, registry)));
        api.MapGet("/events", (GatewayEventFeed feed, CancellationToken cancellationToken) =>
            TypedResults.ServerSentEvents(Stream(feed, cancellationToken)));

        var operations = api.MapGroup("").AddEndpointFilter(new BearerTokenFilter(token ?? string.Empty));
        operations.MapPost("/training/rounds", StartRound);
        operations.MapPost("/unlearning", UnlearnAsync);
        operations.MapPost("/inference", InferAsync);

        endpoints.MapGet("/artifacts/{sha256}", ServeArtifact);
        DashboardAssets.Map(endpoints);
    }

    private static async IAsyncEnumerable<SseItem<ApiEvent>> Stream(GatewayEventFeed feed, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        // Open before the first event, which tells the browser the stream is open: whatever happens after it is delivered.
        using var subscription = feed.Open();
        yield return new SseItem<ApiEvent>(new ApiEvent("connected", DateTimeOffset.UtcNow, null, null, "event stream open"), "connected");
        await foreach (var item in subscription.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            yield return new SseItem<ApiEvent>(item, item.Kind);
    }

    private static IResult StartRound(StartRoundRequest? request, TrainingRoundLauncher launcher, IHostApplicationLifetime lifetime)
    {
        var strategy = request?.Strategy;
        if (string.IsNullOrWhiteSpace(strategy))
            return Problem400("Missing training strategy", $"Send {{\"strategy\": ...}} with one of: {string.Join(", ", StrategyCatalog.Names)}.");
        int round;
        try
        {
            if (!launcher.TryStart(strategy, lifetime.ApplicationStopping, out round))
                return TypedResults.Problem(title: "A training round is already running",
                    detail: $"Round {round - 1} has not finished; request the next round after it ends.", statusCode: StatusCodes.Status409Conflict);
        }
        catch (ArgumentException ex)
        {
            return Problem400("Unknown training strategy", ex.Message);
        }

        return TypedResults.Accepted($"/api/rounds#{round}", new StartRoundResponse(round, strategy, "started"));
    }

    private static async Task<IResult> UnlearnAsync(UnlearningRequest? request, UnlearningService unlearning, DeviceRegistry registry, GatewayStore store)
    {
        if (string.IsNullOrWhiteSpace(request?.DeviceId))
            return Problem400("Missing device id", "Send {\"deviceId\": ..., \"method\": ...} naming the device to unlearn.");
        if (!UnlearningMethodNames.TryParse(request.Method, out var method))
            return Problem400("Unknown unlearning method", $"Method '{request.Method}' is not one of: {string.Join(", ", UnlearningMethodNames.All)}.");
        if (!registry.TryGet(request.DeviceId, out _) && store.Contributions(request.DeviceId).Count == 0)
            return TypedResults.Problem(title: "Unknown device", detail: $"Device '{request.DeviceId}' is neither in the fleet nor in the stored contributions.",
                statusCode: StatusCodes.Status404NotFound);
        try
        {
            // Not cancelled with the request: a half-applied unlearning would be worse than a finished one nobody reads.
            var report = await unlearning.UnlearnAsync(request.DeviceId, method, "http-api", CancellationToken.None).ConfigureAwait(false);
            return TypedResults.Ok(report);
        }
        catch (UnlearningVerificationException ex)
        {
            return TypedResults.Problem(title: "Unlearning failed its verification", detail: ex.Message, statusCode: StatusCodes.Status422UnprocessableEntity);
        }
        catch (InvalidOperationException ex)
        {
            return TypedResults.Problem(title: "Unlearning is not possible now", detail: ex.Message, statusCode: StatusCodes.Status409Conflict);
        }
    }

    private static async Task<IResult> InferAsync(InferenceRequest? request, IServiceProvider services, CancellationToken cancellationToken)
    {
        if (services.GetService(typeof(InferenceOrchestrator)) is not InferenceOrchestrator orchestrator)
            return TypedResults.Problem(title: "Inference orchestrator not available", statusCode: StatusCodes.Status503ServiceUnavailable);
        if (request?.Pixels is null)
            return Problem400("Missing pixels", "Send {\"pixels\": [784 numbers in 0..1], \"minAccuracy\", \"maxLatencyMs\", \"priority\"}.");
        var qos = new QosRequirement(request.MinAccuracy ?? 0, TimeSpan.FromMilliseconds(request.MaxLatencyMs ?? QosRequirement.BestEffort.MaximumLatencyMilliseconds),
            request.Priority ?? 0);
        try
        {
            return TypedResults.Ok(await orchestrator.InferAsync(request.Pixels, qos, cancellationToken).ConfigureAwait(false));
        }
        catch (ArgumentException ex)
        {
            return Problem400("Invalid inference request", ex.Message);
        }
        catch (InvalidOperationException ex)
        {
            return TypedResults.Problem(title: "Inference orchestrator not available", detail: ex.Message, statusCode: StatusCodes.Status503ServiceUnavailable);
        }
    }

    private static IResult ServeArtifact(string sha256, ArtifactStore artifacts)
    {
        if (!ArtifactStore.IsSha256Hex(sha256))
            return Problem400("Malformed artifact name", $"'{sha256}' is not a SHA-256 digest (64 hexadecimal digits).");
        if (!artifacts.TryGet(sha256, out var content))
            return TypedResults.Problem(title: "Unknown artifact", detail: $"No artifact with SHA-256 {sha256} is registered at this gateway.",
                statusCode: StatusCodes.Status404NotFound);
        return TypedResults.Bytes(content, "application/octet-stream", fileDownloadName: null, enableRangeProcessing: true,
            entityTag: new Microsoft.Net.Http.Headers.EntityTagHeaderValue($"\"{sha256.ToLowerInvariant()}\""));
    }

    private static ProblemHttpResult Problem400(string title, string detail) =>
        TypedResults.Problem(title: title, detail: detail, statusCode: StatusCodes.Status400BadRequest);
}
