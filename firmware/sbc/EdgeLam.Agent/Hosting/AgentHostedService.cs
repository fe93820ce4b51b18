using EdgeLam.Agent.Hardware;
using EdgeLam.Boards;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EdgeLam.Agent.Hosting;

/// <summary>Runs the configured agent for the lifetime of the host.</summary>
public sealed class AgentHostedService : BackgroundService
{
    private readonly AgentOptions _options;
    private readonly ILoggerFactory _loggerFactory;

    /// <summary>A service for the validated options.</summary>
    public AgentHostedService(IOptions<AgentOptions> options, ILoggerFactory loggerFactory)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Value;
        _loggerFactory = loggerFactory;
    }

    /// <inheritdoc/>
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        BoardProfile board = BoardResolver.Resolve(_options.Board);
        using AgentHardware hardware = BoardHardware.Open(board, _loggerFactory.CreateLogger("EdgeLam.Agent.Hardware"));
        await using var agent = new DeviceAgent(_options, board, hardware, _loggerFactory);
        await agent.RunAsync(stoppingToken).ConfigureAwait(false);
    }
}
