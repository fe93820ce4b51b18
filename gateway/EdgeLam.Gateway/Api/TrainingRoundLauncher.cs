using EdgeLam.Gateway.Training.Rounds;
using EdgeLam.Gateway.Training.Strategies;
using Microsoft.Extensions.Logging;

namespace EdgeLam.Gateway.Api;

/// <summary>Starts training rounds requested over HTTP in the background, one at a time; the caller learns the outcome from events and /api/rounds.</summary>
public sealed partial class TrainingRoundLauncher(TrainingCoordinator coordinator, ILogger<TrainingRoundLauncher> logger)
{
    private readonly Lock _gate = new();
    private Task? _running;

    /// <summary>Starts a round with <paramref name="strategyName"/>; returns false with the running round's task when one is already under way.</summary>
    /// <exception cref="ArgumentException">The strategy name is not in <see cref="StrategyCatalog.Names"/>.</exception>
    public bool TryStart(string strategyName, CancellationToken stopping, out int round)
    {
        var strategy = StrategyCatalog.Create(strategyName);
        lock (_gate)
        {
            round = coordinator.LastRound + 1;
            if (_running is { IsCompleted: false }) return false;
            _running = Task.Run(() => RunAsync(strategy, strategyName, stopping), CancellationToken.None);
            return true;
        }
    }

    /// <summary>Completes when the round started last has finished (for orderly shutdown).</summary>
    public Task Running { get { lock (_gate) return _running ?? Task.CompletedTask; } }

    private async Task RunAsync(Training.IFederatedStrategy strategy, string strategyName, CancellationToken stopping)
    {
        try
        {
            var outcome = await coordinator.RunRoundAsync(strategy, strategyName, cancellationToken: stopping).ConfigureAwait(false);
            LogRoundFinished(outcome.Round, outcome.Summary);
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            LogRoundCancelled(strategyName);
        }
#pragma warning disable CA1031 // A background round must never take the gateway down; its failure is logged and recorded by the coordinator.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            LogRoundFailed(ex, strategyName);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Round {Round} requested over HTTP finished: {Summary}")]
    private partial void LogRoundFinished(int round, string summary);

    [LoggerMessage(Level = LogLevel.Information, Message = "Round with {Strategy} requested over HTTP was cancelled by shutdown")]
    private partial void LogRoundCancelled(string strategy);

    [LoggerMessage(Level = LogLevel.Error, Message = "Round with {Strategy} requested over HTTP failed")]
    private partial void LogRoundFailed(Exception exception, string strategy);
}
