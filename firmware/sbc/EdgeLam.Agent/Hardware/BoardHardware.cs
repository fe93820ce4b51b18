using System.Device.Gpio;
using System.Device.I2c;
using EdgeLam.Boards;
using Microsoft.Extensions.Logging;

namespace EdgeLam.Agent.Hardware;

/// <summary>The status LED and temperature sensor an agent drives.</summary>
/// <param name="Led">The status LED.</param>
/// <param name="TemperatureSensor">The temperature sensor.</param>
public sealed record AgentHardware(IStatusLed Led, ITemperatureSensor TemperatureSensor) : IDisposable
{
    /// <summary>A simulated LED and a sensor that has no reading until one is set.</summary>
    public static AgentHardware Simulated() => new(new SimulatedStatusLed(), new SimulatedTemperatureSensor());

    /// <inheritdoc/>
    public void Dispose()
    {
        Led.Dispose();
        TemperatureSensor.Dispose();
    }
}

/// <summary>Opens the real GPIO LED and TMP102 of a board, or simulated ones where the host has no GPIO chip or I2C bus.</summary>
public static partial class BoardHardware
{
    /// <summary>The hardware of <paramref name="board"/> on this host.</summary>
    public static AgentHardware Open(BoardProfile board, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(board);
        return new AgentHardware(OpenLed(board, logger), OpenSensor(board, logger));
    }

    private static IStatusLed OpenLed(BoardProfile board, ILogger logger)
    {
        int pin = board.Gpio.StatusLedPin.Value;
        if (!Directory.Exists("/dev") || Directory.GetFiles("/dev", "gpiochip*").Length == 0)
        {
            LogSimulatedLed(logger, board.Id, pin);
            return new SimulatedStatusLed();
        }

        try
        {
            return new GpioStatusLed(new GpioController(), pin);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException or InvalidOperationException or PlatformNotSupportedException)
        {
            LogLedFailed(logger, pin, exception.Message);
            return new SimulatedStatusLed();
        }
    }

    private static ITemperatureSensor OpenSensor(BoardProfile board, ILogger logger)
    {
        var wiring = board.Gpio.TemperatureSensor;
        int bus = wiring.I2cBusId.Value;
        int address = wiring.I2cAddress.Value;
        if (!File.Exists($"/dev/i2c-{bus}"))
        {
            LogSimulatedSensor(logger, wiring.Part, bus);
            return new SimulatedTemperatureSensor();
        }

        try
        {
            var sensor = new Tmp102TemperatureSensor(I2cDevice.Create(new I2cConnectionSettings(bus, address)));
            if (!sensor.TryReadCelsius(out _))
            {
                sensor.Dispose();
                LogSensorSilent(logger, wiring.Part, bus, address);
                return new SimulatedTemperatureSensor();
            }

            return sensor;
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException or PlatformNotSupportedException)
        {
            LogSensorSilent(logger, wiring.Part, bus, address);
            return new SimulatedTemperatureSensor();
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "No GPIO chip on this host: status LED of {Board} (pin {Pin}) is simulated")]
    private static partial void LogSimulatedLed(ILogger logger, string board, int pin);

    [LoggerMessage(Level = LogLevel.Warning, Message = "GPIO pin {Pin} could not be opened ({Reason}): status LED is simulated")]
    private static partial void LogLedFailed(ILogger logger, int pin, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "No I2C bus {Bus} on this host: {Part} temperature sensor is simulated and reports nothing until set")]
    private static partial void LogSimulatedSensor(ILogger logger, string part, int bus);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Part} did not answer on I2C bus {Bus} address {Address}: temperature sensor is simulated")]
    private static partial void LogSensorSilent(ILogger logger, string part, int bus, int address);
}
