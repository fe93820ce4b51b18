namespace EdgeLam.Agent.Hardware;

/// <summary>The board's status LED, at the level of what it shows.</summary>
public interface IStatusLed : IDisposable
{
    /// <summary>The pattern shown now.</summary>
    LedPattern Pattern { get; }

    /// <summary>Shows <paramref name="pattern"/> from now on; setting the current pattern again changes nothing.</summary>
    void SetPattern(LedPattern pattern);
}

/// <summary>A temperature sensor of the board.</summary>
public interface ITemperatureSensor : IDisposable
{
    /// <summary>Reads the temperature; false when the sensor did not answer (then the value is meaningless).</summary>
    bool TryReadCelsius(out double celsius);
}
