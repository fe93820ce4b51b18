namespace EdgeLam.Agent.Hardware;

/// <summary>
/// The temperature sensor of a board without one: it answers only after a value has been set (tests, a
/// thermal scenario of the emulated fleet); until then reads fail, so no invented temperature is reported.
/// </summary>
public sealed class SimulatedTemperatureSensor : ITemperatureSensor
{
    private readonly object _gate = new();
    private double? _celsius;

    /// <summary>Raised after each successful read, with the value read.</summary>
    public event Action<double>? Read;

    /// <summary>Sets the temperature the sensor reports from now on; null makes reads fail.</summary>
    public void Set(double? celsius)
    {
        lock (_gate) _celsius = celsius;
    }

    /// <inheritdoc/>
    public bool TryReadCelsius(out double celsius)
    {
        double? current;
        lock (_gate) current = _celsius;
        if (current is not { } value)
        {
            celsius = double.NaN;
            return false;
        }

        celsius = value;
        Read?.Invoke(value);
        return true;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
    }
}
