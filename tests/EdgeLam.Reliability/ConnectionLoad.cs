using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.Json;
using EdgeLam.Contracts.Messages;
using EdgeLam.Contracts.Wire;
using EdgeLam.Gateway.Broker;
using EdgeLam.Gateway.Fleet;
using EdgeLam.Gateway.Inference;
using EdgeLam.Model.Architecture;
using EdgeLam.Model.Data;
using EdgeLam.Model.Variants;
using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Protocol;

namespace EdgeLam.Reliability;

public sealed record ConnectionLoadOptions
{
    public int Connections { get; init; } = 1_000;
    public TimeSpan Hold { get; init; } = TimeSpan.FromSeconds(20);
    /// <summary>Upper bound of the request rate; the run uses at most <see cref="CapacityFraction"/> of the capacity it measures first.</summary>
    public double RequestsPerSecond { get; init; } = 10;

    /// <summary>Fraction of the measured capacity the sustained rate stays under.</summary>
    public double CapacityFraction { get; init; } = 0.5;

    /// <summary>How long requests run back to back to measure capacity before the sustained run.</summary>
    public TimeSpan CapacityProbe { get; init; } = TimeSpan.FromSeconds(5);
    public TimeSpan KeepAlive { get; init; } = TimeSpan.FromSeconds(60);
    public TimeSpan HeartbeatInterval { get; init; } = TimeSpan.FromSeconds(10);
    public Action<string> Log { get; init; } = _ => { };
}

/// <summary>What the load run measured. Memory is of this one process: gateway, embedded broker, simulated connections and the two agents.</summary>
public sealed record ConnectionLoadResult(
    int ConnectionsAttempted, int ConnectionsHeld, int DevicesOnlineAtGateway, long HeartbeatsSent,
    double CapacityRequestsPerSecond, double TargetRequestsPerSecond,
    long RequestsSent, long RequestsServed, long RequestsFailed, double RequestsPerSecond,
    double LatencyP50Milliseconds, double LatencyP95Milliseconds, double LatencyP99Milliseconds,
    long PeakWorkingSetBytes, long PeakManagedHeapBytes, double ConnectSeconds, double HoldSeconds);

/// <summary>
/// A lightweight device-connection simulator: many MQTTnet clients, each with its own credentials, a hello and
/// periodic heartbeats, held on one embedded-broker gateway while real agents serve a steady stream of inference
/// requests scheduled by drift-plus-penalty.
/// </summary>
public static class ConnectionLoad
{
    public static async Task<ConnectionLoadResult> RunAsync(ConnectionLoadOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var names = Enumerable.Range(0, options.Connections).Select(i => $"sim-{i:D5}").ToArray();
        var passwords = names.ToDictionary(n => n, _ => Convert.ToHexString(RandomNumberGenerator.GetBytes(12)), StringComparer.Ordinal);
        options.Log($"hashing {names.Length} device credentials");
        await using var gateway = await GatewayUnderTest.StartAsync(["agent-a", "agent-b"], new Dictionary<string, string?>
        {
            ["Broker:MaxPendingMessagesPerClient"] = "1000",
        }, prepare: (directory, credentials) =>
        {
            // One file write for all identities: enrolling one by one rewrites the file each time.
            var records = names.AsParallel().Select(n => new CredentialRecord(n, ClientRole.Device,
                CredentialStore.HashPassword(passwords[n], RandomNumberGenerator.GetBytes(16), CredentialStore.Iterations))).ToList();
            records.AddRange(credentials.Records);
            File.WriteAllText(Path.Combine(directory, "credentials.json"), JsonSerializer.Serialize(records, CredentialJson));
            return Task.FromResult<IReadOnlyDictionary<string, string?>>(new Dictionary<string, string?>());
        }).ConfigureAwait(false);

        using var memory = new MemorySampler();
        await using var agents = new FleetAgents();
        await agents.StartAsync("agent-a", gateway.Port).ConfigureAwait(false);
        await agents.StartAsync("agent-b", gateway.Port).ConfigureAwait(false);
        var test = await PlaceModelAsync(gateway, options).ConfigureAwait(false);

        options.Log($"connecting {names.Length} devices");
        var connectClock = Stopwatch.StartNew();
        var clients = new IMqttClient?[names.Length];
        using (var gate = new SemaphoreSlim(32))
        {
            await Task.WhenAll(names.Select(async (name, i) =>
            {
                await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
                try { clients[i] = await ConnectAsync(name, passwords[name], gateway.Port, options.KeepAlive, cancellationToken).ConfigureAwait(false); }
                catch (Exception ex) when (ex is MQTTnet.Exceptions.MqttCommunicationException or InvalidOperationException or TimeoutException) { options.Log($"{name}: {ex.Message}"); }
                finally { gate.Release(); }
            })).ConfigureAwait(false);
        }

        var connectSeconds = connectClock.Elapsed.TotalSeconds;
        options.Log($"{clients.Count(c => c is not null)} connected in {connectSeconds:0.0} s; holding for {options.Hold.TotalSeconds:0} s");

        var orchestrator = gateway.Get<InferenceOrchestrator>();
        var qos = new QosRequirement(0, TimeSpan.FromSeconds(5));
        // Capacity: requests back to back (one in flight) under the held connections, after a warm-up; the sustained rate stays below it.
        for (var i = 0; i < 5; i++)
            await orchestrator.InferAsync(test.ScaledPixels(i, 1), qos, InferenceStrategy.DriftPlusPenalty, cancellationToken).ConfigureAwait(false);
        var probe = Stopwatch.StartNew();
        var probed = 0;
        while (probe.Elapsed < options.CapacityProbe)
        {
            var result = await orchestrator.InferAsync(test.ScaledPixels(probed % test.Count, 1), qos, InferenceStrategy.DriftPlusPenalty, cancellationToken).ConfigureAwait(false);
            if (result.Succeeded) probed++;
        }

        var capacity = probed / probe.Elapsed.TotalSeconds;
        var target = Math.Min(options.RequestsPerSecond, options.CapacityFraction * capacity);
        options.Log($"capacity {capacity:0.0} requests/s with one in flight; sustaining {target:0.00} requests/s");
        using var hold = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        hold.CancelAfter(options.Hold);
        var heartbeats = HeartbeatLoopAsync(clients, names, options.HeartbeatInterval, hold.Token);
        var latencies = new List<double>();
        long sent = 0, served = 0, failed = 0;
        var requests = new List<Task>();
        var holdClock = Stopwatch.StartNew();
        var period = TimeSpan.FromSeconds(1 / Math.Max(0.1, target));
        while (!hold.IsCancellationRequested)
        {
            var image = test.ScaledPixels((int)(sent % test.Count), 1);
            sent++;
            requests.Add(Task.Run(async () =>
            {
                var started = Stopwatch.GetTimestamp();
                var result = await orchestrator.InferAsync(image, qos, InferenceStrategy.DriftPlusPenalty, CancellationToken.None).ConfigureAwait(false);
                var elapsed = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                lock (latencies)
                {
                    if (result.Succeeded) { served++; latencies.Add(elapsed); }
                    else failed++;
                }
            }, CancellationToken.None));
            try { await Task.Delay(period, hold.Token).ConfigureAwait(false); }
            catch (OperationCanceledException) { break; }
        }

        await Task.WhenAll(requests).ConfigureAwait(false);
        var holdSeconds = holdClock.Elapsed.TotalSeconds;
        var heartbeatsSent = await heartbeats.ConfigureAwait(false);
        var held = clients.Count(c => c is { IsConnected: true });
        var online = gateway.Get<DeviceRegistry>().OnlineDevices.Count(d => d.DeviceId.StartsWith("sim-", StringComparison.Ordinal));
        var (peakWorkingSet, peakHeap) = memory.Peaks;
        await Task.WhenAll(clients.Where(c => c is not null).Select(async c =>
        {
            try { await c!.DisconnectAsync().ConfigureAwait(false); } catch (MQTTnet.Exceptions.MqttCommunicationException) { }
            c!.Dispose();
        })).ConfigureAwait(false);
        latencies.Sort();
        return new ConnectionLoadResult(names.Length, held, online, heartbeatsSent, capacity, target, sent, served, failed, served / holdSeconds,
            Percentile(latencies, 0.50), Percentile(latencies, 0.95), Percentile(latencies, 0.99), peakWorkingSet, peakHeap, connectSeconds, holdSeconds);
    }

    private static readonly JsonSerializerOptions CredentialJson = new()
    {
        WriteIndented = true,
        Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter() },
    };

    private static async Task<IMqttClient> ConnectAsync(string name, string password, int port, TimeSpan keepAlive, CancellationToken cancellationToken)
    {
        var client = new MqttClientFactory().CreateMqttClient();
        var result = await client.ConnectAsync(new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", port).WithClientId(name)
            .WithCredentials(name, password).WithProtocolVersion(MqttProtocolVersion.V500).WithKeepAlivePeriod(keepAlive)
            .WithTimeout(TimeSpan.FromSeconds(30)).Build(), cancellationToken).ConfigureAwait(false);
        if (result.ResultCode != MqttClientConnectResultCode.Success)
        {
            client.Dispose();
            throw new InvalidOperationException($"refused: {result.ResultCode}");
        }

        var hello = ScriptedDevice.Hello(name) with { BoardId = "esp32-wrover", Tier = DeviceTier.L, Precisions = [Precision.Int8], MaxLoraRank = 4, MacsPerSecond = 1e8 };
        await client.PublishAsync(new MqttApplicationMessageBuilder().WithTopic(Topics.Device(name, DeviceTopic.Hello)).WithPayload(WireMessages.Encode(hello))
            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build(), cancellationToken).ConfigureAwait(false);
        return client;
    }

    /// <summary>Each connected device sends a heartbeat once per interval, spread evenly over it.</summary>
    private static async Task<long> HeartbeatLoopAsync(IMqttClient?[] clients, string[] names, TimeSpan interval, CancellationToken stop)
    {
        long sent = 0;
        var sequence = 0L;
        var gap = interval / Math.Max(1, clients.Length);
        while (!stop.IsCancellationRequested)
        {
            for (var i = 0; i < clients.Length && !stop.IsCancellationRequested; i++)
            {
                if (clients[i] is not { IsConnected: true } client) continue;
                var beat = new DeviceHeartbeat { Sequence = sequence, IntervalMilliseconds = (int)interval.TotalMilliseconds, QueueLength = 0, BusyMilliseconds = 0, FreeMemoryBytes = 100_000 };
                try
                {
                    await client.PublishAsync(new MqttApplicationMessageBuilder().WithTopic(Topics.Device(names[i], DeviceTopic.Heartbeat))
                        .WithPayload(WireMessages.Encode(beat)).WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtMostOnce).Build(), stop).ConfigureAwait(false);
                    sent++;
                }
                catch (MQTTnet.Exceptions.MqttCommunicationException) { }
                catch (OperationCanceledException) { break; }

                try { await Task.Delay(gap, stop).ConfigureAwait(false); }
                catch (OperationCanceledException) { break; }
            }

            sequence++;
        }

        return sent;
    }

    /// <summary>Places a tiny model's stages on the two agents (FP32 variant) and returns test images to request.</summary>
    private static async Task<Dataset> PlaceModelAsync(GatewayUnderTest gateway, ConnectionLoadOptions options)
    {
        var config = new TinyVitConfig(ModelDim: 16, Layers: 2, Heads: 2, MlpDim: 32);
        var variants = new Dictionary<ModelVariant, VariantModel> { [ModelVariant.Fp32] = VariantModel.Fp32(TinyVitInitializer.Initialize(config, seed: 11)) };
        var test = FashionMnist.Load().Test.Take(200);
        var portfolio = ServicePortfolio.FromModel(variants, VariantAccuracy.Measure(variants, test));
        var planner = gateway.Get<PlacementPlanner>();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (gateway.Get<DeviceRegistry>().OnlineDevices.Count < 2)
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException("the inference agents did not come online");
            await Task.Delay(50).ConfigureAwait(false);
        }

        await planner.StartAsync(portfolio, new OnnxStageArtifacts(variants)).ConfigureAwait(false);
        while (planner.Placements.Count(p => p.State == PlacementState.Loaded) < portfolio.Stages.Count)
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"placements not loaded: {string.Join(", ", planner.Placements)}");
            await Task.Delay(100).ConfigureAwait(false);
        }

        options.Log($"{planner.Placements.Count(p => p.State == PlacementState.Loaded)} stage variants loaded on the agents");
        return test;
    }

    private static double Percentile(List<double> sorted, double p) =>
        sorted.Count == 0 ? double.NaN : sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(p * sorted.Count) - 1)];

    /// <summary>Samples the process working set and managed heap every 250 ms and keeps the peaks.</summary>
    private sealed class MemorySampler : IDisposable
    {
        private readonly Timer _timer;
        private long _workingSet;
        private long _heap;

        public MemorySampler() => _timer = new Timer(_ => Sample(), null, TimeSpan.Zero, TimeSpan.FromMilliseconds(250));

        public (long WorkingSet, long Heap) Peaks
        {
            get
            {
                Sample();
                return (Interlocked.Read(ref _workingSet), Interlocked.Read(ref _heap));
            }
        }

        private void Sample()
        {
            using var process = Process.GetCurrentProcess();
            InterlockedMax(ref _workingSet, process.WorkingSet64);
            InterlockedMax(ref _heap, GC.GetGCMemoryInfo().HeapSizeBytes);
        }

        private static void InterlockedMax(ref long target, long value)
        {
            long current;
            while (value > (current = Interlocked.Read(ref target)) && Interlocked.CompareExchange(ref target, value, current) != current) { }
        }

        public void Dispose() => _timer.Dispose();
    }
}
