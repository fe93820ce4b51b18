using Microsoft.Extensions.Logging;

namespace EdgeLam.Agent.Hardware;

/// <summary>
/// Holds new work while the board is too hot: above the threshold, work waits until the temperature has
/// dropped by the hysteresis, so the board does not oscillate around the threshold.
/// </summary>
public sealed partial class ThermalGovernor
{
    private readonly ITemperatureSensor _sensor;
    private readonly double _thresholdCelsius;
    private readonly double _resumeCelsius;
    private readonly TimeSpan _pollInterval;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;

    /// <summary>A governor over <paramref name="sensor"/>.</summary>
    public ThermalGovernor(ITemperatureSensor sensor, double thresholdCelsius, double hysteresisCelsius, TimeSpan pollInterval, ILogger logger, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(sensor);
        _sensor = sensor;
        _thresholdCelsius = thresholdCelsius;
        _resumeCelsius = thresholdCelsius - hysteresisCelsius;
        _pollInterval = pollInterval;
        _logger = logger;
        _time = time ?? TimeProvider.System;
    }

    /// <summary>Raised with the temperature when work starts to be held.</summary>
    public event Action<double>? Throttled;

    /// <summary>Total time work has been held so far.</summary>
    public TimeSpan ThrottledTime { get; private set; }

    /// <summary>Returns at once when cool enough (or without a reading); otherwise when the board has cooled down.</summary>
    public async Task WaitUntilCoolAsync(CancellationToken cancellationToken)
    {
        if (!_sensor.TryReadCelsius(out double celsius) || celsius <= _thresholdCelsius) return;
        long start = _time.GetTimestamp();
        LogThrottled(_logger, celsius, _thresholdCelsius, _resumeCelsius);
        Throttled?.Invoke(celsius);
        while (_sensor.TryReadCelsius(out celsius) && celsius > _resumeCelsius)
            await Task.Delay(_pollInterval, _time, cancellationToken).ConfigureAwait(false);
        ThrottledTime += _time.GetElapsedTime(start);
        LogResumed(_logger, celsius);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Board at {Celsius} °C, above {Threshold} °C: work is held until {Resume} °C")]
    private static partial void LogThrottled(ILogger logger, double celsius, double threshold, double resume);

    [LoggerMessage(Level = LogLevel.Information, Message = "Board cooled to {Celsius} °C: work resumes")]
    private static partial void LogResumed(ILogger logger, double celsius);
}
