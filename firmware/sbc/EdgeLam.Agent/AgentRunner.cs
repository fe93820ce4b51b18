using EdgeLam.Agent.Hardware;
using EdgeLam.Agent.Hosting;
using EdgeLam.Agent.Training;
using EdgeLam.Boards;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace EdgeLam.Agent;

/// <summary>Starts agents: one per process as a host (the agent executable, the edgelam CLI's device verb), or many in one process (emulated fleet).</summary>
public static class AgentRunner
{
    /// <summary>Exit code of an orderly stop.</summary>
    public const int ExitSuccess = 0;

    /// <summary>Exit code of an unusable configuration (options, board profile).</summary>
    public const int ExitConfigurationError = 2;

    /// <summary>
    /// Runs one agent under the generic host with console logging until <paramref name="cancellationToken"/> is
    /// cancelled (or the process is asked to stop); returns an exit code. Called by the edgelam CLI's device verb.
    /// </summary>
    public static async Task<int> RunAsync(AgentLaunch launch, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(launch);
        AgentOptions options;
        try
        {
            options = launch.ToOptions();
            BoardResolver.Resolve(options.Board);
        }
        catch (Exception exception) when (exception is OptionsValidationException or ArgumentException or BoardProfileException or IOException)
        {
            await Console.Error.WriteLineAsync($"edgelam device: {exception.Message}").ConfigureAwait(false);
            return ExitConfigurationError;
        }

        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddEdgeLamAgent(configured => Copy(options, configured));
        using IHost host = builder.Build();
        await host.RunAsync(cancellationToken).ConfigureAwait(false);
        return ExitSuccess;
    }

    /// <summary>
    /// Starts one agent in this process and returns at once; disposing the handle stops it (offline status, disconnect).
    /// Call it once per device for an emulated fleet: each agent has its own connection, shard and variants.
    /// </summary>
    /// <param name="launch">Which device, board and broker.</param>
    /// <param name="loggerFactory">Where logs go; none by default.</param>
    /// <param name="hardware">LED and sensor; by default the board's real ones where present, else simulated.</param>
    /// <param name="baseModel">Frozen base model; by default pretrained from the options' seed.</param>
    public static Task<AgentHandle> StartAsync(AgentLaunch launch, ILoggerFactory? loggerFactory = null, AgentHardware? hardware = null, IBaseModelSource? baseModel = null)
    {
        ArgumentNullException.ThrowIfNull(launch);
        AgentOptions options = launch.ToOptions();
        BoardProfile board = BoardResolver.Resolve(options.Board);
        loggerFactory ??= NullLoggerFactory.Instance;
        hardware ??= BoardHardware.Open(board, loggerFactory.CreateLogger("EdgeLam.Agent.Hardware"));
        var agent = new DeviceAgent(options, board, hardware, loggerFactory, baseModel);
        var stop = new CancellationTokenSource();
        Task run = Task.Run(() => agent.RunAsync(stop.Token));
        return Task.FromResult(new AgentHandle(agent, run, stop));
    }

    private static void Copy(AgentOptions from, AgentOptions to)
    {
        foreach (var property in typeof(AgentOptions).GetProperties().Where(property => property.CanWrite))
            property.SetValue(to, property.GetValue(from));
    }
}

/// <summary>A running in-process agent; disposing it stops the agent and waits for it to finish.</summary>
public sealed class AgentHandle : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop;
    private int _disposed;

    internal AgentHandle(DeviceAgent agent, Task run, CancellationTokenSource stop)
    {
        Agent = agent;
        Completion = run;
        _stop = stop;
    }

    /// <summary>The agent.</summary>
    public DeviceAgent Agent { get; }

    /// <summary>Completes when the agent has stopped; faults if it failed.</summary>
    public Task Completion { get; }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1) return;
        await _stop.CancelAsync().ConfigureAwait(false);
        try
        {
            await Completion.ConfigureAwait(false);
        }
        finally
        {
            await Agent.DisposeAsync().ConfigureAwait(false);
            Agent.Hardware.Dispose();
            _stop.Dispose();
        }
    }
}
