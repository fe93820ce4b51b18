using System.Device.Gpio;

namespace EdgeLam.Agent.Hardware;

/// <summary>A status LED on a GPIO pin (active high, through a series resistor; hardware/README.md), blinked by a timer.</summary>
public sealed class GpioStatusLed : IStatusLed
{
    private readonly GpioController _controller;
    private readonly bool _shouldDispose;
    private readonly int _pin;
    private readonly object _gate = new();
    private readonly ITimer _timer;
    private LedPattern _pattern = LedPattern.Off;
    private DateTimeOffset _since = DateTimeOffset.UtcNow;

    /// <summary>Drives <paramref name="pin"/> of <paramref name="controller"/>; <paramref name="shouldDispose"/> says whether this LED disposes the controller.</summary>
    public GpioStatusLed(GpioController controller, int pin, bool shouldDispose = true)
    {
        ArgumentNullException.ThrowIfNull(controller);
        _controller = controller;
        _pin = pin;
        _shouldDispose = shouldDispose;
        _controller.OpenPin(pin, PinMode.Output, PinValue.Low);

        // 50 ms resolves the shortest on time of any pattern (100 ms).
        _timer = TimeProvider.System.CreateTimer(_ => Refresh(), null, TimeSpan.Zero, TimeSpan.FromMilliseconds(50));
    }

    /// <inheritdoc/>
    public LedPattern Pattern
    {
        get
        {
            lock (_gate) return _pattern;
        }
    }

    /// <inheritdoc/>
    public void SetPattern(LedPattern pattern)
    {
        lock (_gate)
        {
            if (_pattern == pattern) return;
            _pattern = pattern;
            _since = DateTimeOffset.UtcNow;
        }

        Refresh();
    }

    private void Refresh()
    {
        lock (_gate)
        {
            bool lit = LedPatternTiming.IsLitAt(_pattern, DateTimeOffset.UtcNow - _since);
            _controller.Write(_pin, lit ? PinValue.High : PinValue.Low);
        }
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        _timer.Dispose();
        lock (_gate)
        {
            _controller.Write(_pin, PinValue.Low);
            _controller.ClosePin(_pin);
        }

        if (_shouldDispose) _controller.Dispose();
    }
}
