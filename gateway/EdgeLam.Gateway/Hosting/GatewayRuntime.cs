using EdgeLam.Contracts.Messages;
using EdgeLam.Gateway.Broker;
using EdgeLam.Gateway.Fleet;
using EdgeLam.Gateway.Messaging;
using EdgeLam.Gateway.Training.Rounds;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EdgeLam.Gateway.Hosting;

/// <summary>
/// Starts the gateway in order: credentials, the embedded broker (unless external), the MQTT
/// connection, resume from the store; then routes every device message to the room that owns it.
/// </summary>
public sealed partial class GatewayRuntime(
    IOptions<BrokerOptions> brokerOptions,
    CredentialStore credentials,
    EmbeddedBroker broker,
    GatewayMqttClient mqtt,
    DeviceRegistry registry,
    TrainingCoordinator training,
    RejectionPublisher rejections,
    ILogger<GatewayRuntime> logger) : IHostedService
{
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes once the gateway is connected and routing.</summary>
    public Task Ready => _ready.Task;

    /// <summary>The port devices connect to.</summary>
    public int BrokerPort { get; private set; }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var options = brokerOptions.Value;
        if (!credentials.TryAuthenticate(options.GatewayUser, options.GatewayPassword, out _, out _))
            credentials.Enroll(options.GatewayUser, ClientRole.Gateway, options.GatewayPassword);
        if (options.Mode == BrokerMode.Embedded)
        {
            await broker.StartAsync(cancellationToken).ConfigureAwait(false);
            BrokerPort = broker.Port;
        }
        else
        {
            BrokerPort = options.Port;
        }

        training.Resume();
        mqtt.DeviceMessageReceived += RouteAsync;
        await mqtt.StartAsync(BrokerPort, cancellationToken).ConfigureAwait(false);
        training.ContinueResumedRound();
        LogStarted(options.Mode.ToString(), BrokerPort);
        _ready.TrySetResult();
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        training.Stop();
        await mqtt.DisposeAsync().ConfigureAwait(false);
        await broker.StopAsync(cancellationToken).ConfigureAwait(false);
    }

    private async Task RouteAsync(DeviceMessage message)
    {
        if (await registry.HandleAsync(message).ConfigureAwait(false)) return;
        if (await training.HandleAsync(message).ConfigureAwait(false)) return;
        foreach (var handler in ExtraHandlers)
            if (await handler(message).ConfigureAwait(false)) return;
        await rejections.RejectAsync(message, RejectionReason.NotAssigned, $"nothing at the gateway expects a message on '{message.Topic}' now").ConfigureAwait(false);
    }

    /// <summary>Further rooms (inference, deployment) register their handlers here.</summary>
    public IList<Func<DeviceMessage, Task<bool>>> ExtraHandlers { get; } = [];

    [LoggerMessage(Level = LogLevel.Information, Message = "Gateway running with {Mode} broker on port {Port}")]
    private partial void LogStarted(string mode, int port);
}
