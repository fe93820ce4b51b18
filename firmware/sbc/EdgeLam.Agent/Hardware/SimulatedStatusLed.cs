namespace EdgeLam.Agent.Hardware;

/// <summary>
/// The status LED of a board without a GPIO chip (a development host or an emulated device): it keeps the
/// pattern history, and <see cref="IsLitAt"/> says what a real LED would show at a given moment.
/// </summary>
public sealed class SimulatedStatusLed : IStatusLed
{
    private readonly object _gate = new();
    private readonly List<(LedPattern Pattern, DateTimeOffset Since)> _history = [];
    private readonly TimeProvider _time;

    /// <summary>A dark LED.</summary>
    public SimulatedStatusLed(TimeProvider? time = null)
    {
        _time = time ?? TimeProvider.System;
        _history.Add((LedPattern.Off, _time.GetUtcNow()));
    }

    /// <summary>Raised after each change of pattern.</summary>
    public event Action<LedPattern>? PatternChanged;

    /// <inheritdoc/>
    public LedPattern Pattern
    {
        get
        {
            lock (_gate) return _history[^1].Pattern;
        }
    }

    /// <summary>Every pattern shown so far, oldest first, each with when it began.</summary>
    public IReadOnlyList<(LedPattern Pattern, DateTimeOffset Since)> History
    {
        get
        {
            lock (_gate) return _history.ToArray();
        }
    }

    /// <inheritdoc/>
    public void SetPattern(LedPattern pattern)
    {
        lock (_gate)
        {
            if (_history[^1].Pattern == pattern) return;
            _history.Add((pattern, _time.GetUtcNow()));
        }

        PatternChanged?.Invoke(pattern);
    }

    /// <summary>Whether the LED is lit at <paramref name="moment"/>, from the pattern shown then and its timing.</summary>
    public bool IsLitAt(DateTimeOffset moment)
    {
        lock (_gate)
        {
            for (int i = _history.Count - 1; i >= 0; i--)
            {
                if (_history[i].Since <= moment)
                    return LedPatternTiming.IsLitAt(_history[i].Pattern, moment - _history[i].Since);
            }

            return false;
        }
    }

    /// <inheritdoc/>
    public void Dispose() => SetPattern(LedPattern.Off);
}
