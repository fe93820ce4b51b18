using EdgeLam.Boards;
using EdgeLam.Firmware.Emulator.Hosting;
using EdgeLam.Model.Checkpoints;
using EdgeLam.Model.Data;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace EdgeLam.Firmware.Emulator;

/// <summary>
/// Entry points of the firmware emulator: <see cref="RunAsync"/> runs one device until cancelled (the CLI's
/// `device` verb); <see cref="StartAsync"/> starts many devices in this process and returns when all registered.
/// </summary>
public static partial class EmulatorRunner
{
    /// <summary>Runs one emulated device until the token is cancelled; 0 on orderly stop, 1 when it could not start.</summary>
    public static async Task<int> RunAsync(EmulatorLaunch launch, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(launch);
        using var factory = LoggerFactory.Create(builder => builder.AddSimpleConsole(o => o.SingleLine = true));
        var logger = factory.CreateLogger("EdgeLam.Firmware.Emulator");
        try
        {
            await using var fleet = await StartAsync([launch], EmulatorModel.Load(launch), logger, ct);
            await Task.Delay(Timeout.Infinite, ct).ContinueWith(_ => { }, TaskScheduler.Default);
            return 0;
        }
        catch (Exception error) when (error is IOException or ArgumentException or InvalidOperationException or Mqtt.MqttConnectionException or BoardProfileException)
        {
            LogCannotStart(logger, launch.DeviceId, error.Message);
            return 1;
        }
    }

    /// <summary>Starts devices sharing one base model and data set; the result stops them all when disposed.</summary>
    public static async Task<EmulatedFleet> StartAsync(IReadOnlyList<EmulatorLaunch> launches, EmulatorModel model, ILogger? logger, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(launches);
        ArgumentNullException.ThrowIfNull(model);
        logger ??= NullLogger.Instance;
        var devices = new List<EmulatedDevice>();
        var fleet = new EmulatedFleet(devices);
        try
        {
            foreach (var launch in launches)
            {
                launch.Validate();
                var board = BoardProfileLoader.Load(launch.BoardPath);
                var host = new ModelTrainingHost(model.Weights, model.BaseModelId, model.Data.Train, model.PublicImages, launch.ModelSeed, launch.MaximumShardImages);
                var device = new EmulatedDevice(launch, board, host, logger);
                devices.Add(device);
                device.Start();
            }

            await Task.WhenAll(devices.Select(d => d.Started)).WaitAsync(TimeSpan.FromSeconds(30), ct);
            return fleet;
        }
        catch
        {
            await fleet.DisposeAsync();
            throw;
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Device {DeviceId} cannot start: {Reason}")]
    private static partial void LogCannotStart(ILogger logger, string deviceId, string reason);
}

/// <summary>The frozen base model and data every emulated device of a process shares.</summary>
/// <param name="PublicImages">Images of the public pretraining slice, never part of a device shard.</param>
public sealed record EmulatorModel(EdgeLam.Model.Architecture.TinyVitWeights Weights, string BaseModelId, FashionMnistData Data, int PublicImages)
{
    /// <summary>Loads (or pretrains and caches) the base checkpoint of a launch and the Fashion-MNIST files.</summary>
    public static EmulatorModel Load(EmulatorLaunch launch)
    {
        ArgumentNullException.ThrowIfNull(launch);
        var data = FashionMnist.Load(launch.DataDirectory);
        var budget = PretrainingBudget.Default;
        var checkpoint = BaseCheckpoint.LoadOrTrain(launch.ModelConfig, launch.ModelSeed, launch.CheckpointDirectory, budget, data);
        return new EmulatorModel(checkpoint.Weights, checkpoint.ModelId, data, budget.PublicImages);
    }
}

/// <summary>Emulated devices started together; disposing stops each with an orderly offline status.</summary>
public sealed class EmulatedFleet(IReadOnlyList<EmulatedDevice> devices) : IAsyncDisposable
{
    public IReadOnlyList<EmulatedDevice> Devices { get; } = devices;

    public async ValueTask DisposeAsync()
    {
        foreach (var device in Devices) await device.DisposeAsync();
    }
}
