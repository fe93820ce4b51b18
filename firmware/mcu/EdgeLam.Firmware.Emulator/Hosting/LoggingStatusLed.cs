using EdgeLam.Firmware.Application;
using Microsoft.Extensions.Logging;

namespace EdgeLam.Firmware.Emulator.Hosting;

/// <summary>The emulator's status LED: connection changes become log lines.</summary>
public sealed partial class LoggingStatusLed(ILogger logger, string deviceId) : IStatusLed
{
    private bool? _connected;

    public int Toggles { get; private set; }

    public void ShowConnected(bool isConnected)
    {
        if (_connected == isConnected) return;
        _connected = isConnected;
        LogLed(logger, deviceId, isConnected ? "connected" : "disconnected");
    }

    public void Toggle() => Toggles++;

    [LoggerMessage(Level = LogLevel.Information, Message = "Device {DeviceId} status LED: {State}")]
    private static partial void LogLed(ILogger logger, string deviceId, string state);
}
