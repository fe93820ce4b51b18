using System.Buffers;
using EdgeLam.Contracts.Wire;
using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Protocol;
using Spectre.Console;

namespace EdgeLam.Cli.Monitoring;

/// <summary>Where and how the monitor listens.</summary>
/// <param name="Host">Broker host.</param>
/// <param name="Port">Broker port.</param>
/// <param name="UserName">Broker user allowed to read edgelam/v1/# (the gateway user by default).</param>
/// <param name="Password">Its password.</param>
/// <param name="Filter">MQTT topic filter under edgelam/v1/.</param>
public sealed record MonitorOptions(string Host, int Port, string UserName, string Password, string Filter = MonitorOptions.AllTraffic)
{
    /// <summary>Every topic of the contract.</summary>
    public const string AllTraffic = "edgelam/v1/#";

    /// <summary>Throws <see cref="ArgumentException"/> naming what is wrong.</summary>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(Host)) throw new ArgumentException("--broker needs a host, e.g. 127.0.0.1:1883.", nameof(Host));
        if (Port is < 1 or > 65535) throw new ArgumentException($"Broker port {Port} is outside 1..65535.", nameof(Port));
        if (!Filter.StartsWith(Topics.Root, StringComparison.Ordinal))
            throw new ArgumentException($"--filter '{Filter}' is not under {Topics.Root}; for example {Topics.Root}devices/+/update.", nameof(Filter));
        int hash = Filter.IndexOf('#', StringComparison.Ordinal);
        if (hash >= 0 && (hash != Filter.Length - 1 || Filter[hash - 1] != '/'))
            throw new ArgumentException($"--filter '{Filter}': '#' may only be the last level (MQTT 3.1.1 section 4.7.1.2).", nameof(Filter));
    }
}

/// <summary>
/// Subscribes to the contract's topics and prints every message decoded (<see cref="TrafficDecoder"/>): topic and
/// summary on one line, JSON or frame details indented below, rejections in red. The topics stay readable with a plain
/// `mosquitto_sub -v -t 'edgelam/v1/#'`; this only makes the binary ones legible.
/// </summary>
public sealed class TrafficMonitor : IAsyncDisposable
{
    private readonly MonitorOptions _options;
    private readonly IAnsiConsole _console;
    private readonly IMqttClient _client = new MqttClientFactory().CreateMqttClient();
    private readonly Lock _gate = new();

    /// <summary>A monitor writing to <paramref name="console"/>.</summary>
    public TrafficMonitor(MonitorOptions options, IAnsiConsole console)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(console);
        options.Validate();
        _options = options;
        _console = console;
        _client.ApplicationMessageReceivedAsync += e =>
        {
            Show(TrafficDecoder.Decode(e.ApplicationMessage.Topic, e.ApplicationMessage.Payload.ToArray()), e.ApplicationMessage.Retain);
            return Task.CompletedTask;
        };
    }

    /// <summary>A monitor writing plain text (no colours) to <paramref name="writer"/>, for logs and tests.</summary>
    public TrafficMonitor(MonitorOptions options, TextWriter writer)
        : this(options, PlainConsole(writer))
    {
    }

    /// <summary>Raised after a message has been written.</summary>
    public event Action<DecodedMessage>? MessageShown;

    /// <summary>Connects and subscribes; messages are shown from then on.</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var connect = new MqttClientOptionsBuilder().WithTcpServer(_options.Host, _options.Port)
            .WithClientId("monitor-" + Guid.NewGuid().ToString("N")[..12])
            .WithCredentials(_options.UserName, _options.Password)
            .WithProtocolVersion(MqttProtocolVersion.V500).WithCleanStart(true).WithTimeout(TimeSpan.FromSeconds(10)).Build();
        var result = await _client.ConnectAsync(connect, cancellationToken).ConfigureAwait(false);
        if (result.ResultCode != MqttClientConnectResultCode.Success)
            throw new InvalidOperationException($"Broker {_options.Host}:{_options.Port} refused the monitor: {result.ResultCode} {result.ReasonString}");
        var subscribed = await _client.SubscribeAsync(new MqttClientSubscribeOptionsBuilder()
            .WithTopicFilter(_options.Filter, MqttQualityOfServiceLevel.AtMostOnce).Build(), cancellationToken).ConfigureAwait(false);
        var code = subscribed.Items.First().ResultCode;
        if (code > MqttClientSubscribeResultCode.GrantedQoS2)
            throw new InvalidOperationException($"Broker refused the subscription to {_options.Filter} for user {_options.UserName}: {code}.");
        _console.MarkupLine($"[grey]monitoring {Markup.Escape(_options.Filter)} on {Markup.Escape(_options.Host)}:{_options.Port} as {Markup.Escape(_options.UserName)}[/]");
    }

    /// <summary>Monitors until <paramref name="cancellationToken"/> fires.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        await StartAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Ctrl+C: an orderly stop.
        }
    }

    private void Show(DecodedMessage message, bool retained)
    {
        string colour = message.IsRejection ? "bold red" : message.Kind == PayloadKind.Undecodable ? "yellow" : "default";
        string topicColour = message.IsRejection ? "bold red" : "cyan";
        lock (_gate)
        {
            _console.MarkupLine($"[grey]{DateTime.Now:HH:mm:ss.fff}[/] [{topicColour}]{Markup.Escape(message.Topic)}[/]{(retained ? " [grey](retained)[/]" : "")} [{colour}]{Markup.Escape(message.Headline)}[/]");
            foreach (var line in message.Details)
                _console.MarkupLine($"    [{(message.IsRejection ? "red" : "grey")}]{Markup.Escape(line)}[/]");
        }

        MessageShown?.Invoke(message);
    }

    private static IAnsiConsole PlainConsole(TextWriter writer)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
            Out = new AnsiConsoleOutput(writer),
            Interactive = InteractionSupport.No,
        });
        // A log or a test reads whole lines; only a terminal wraps.
        console.Profile.Width = 4096;
        return console;
    }

    public async ValueTask DisposeAsync()
    {
        if (_client.IsConnected) await _client.DisconnectAsync().ConfigureAwait(false);
        _client.Dispose();
    }
}
