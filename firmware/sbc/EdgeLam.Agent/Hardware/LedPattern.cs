namespace EdgeLam.Agent.Hardware;

/// <summary>What the status LED shows.</summary>
public enum LedPattern
{
    /// <summary>Off: not started or shut down.</summary>
    Off,

    /// <summary>Connected and waiting: a short blink every two seconds.</summary>
    Idle,

    /// <summary>Training a LoRA round: even one-hertz blinking.</summary>
    Training,

    /// <summary>Running inference tasks: fast five-hertz blinking.</summary>
    Inferring,

    /// <summary>Broker unreachable or a failure: steady on.</summary>
    Error,
}

/// <summary>On and off times of each pattern, so real and simulated LEDs blink alike.</summary>
public static class LedPatternTiming
{
    /// <summary>How long the LED is on, then off, per period of <paramref name="pattern"/>; (0, 0) is steady off, (x, 0) steady on.</summary>
    public static (TimeSpan On, TimeSpan Off) Of(LedPattern pattern) => pattern switch
    {
        LedPattern.Off => (TimeSpan.Zero, TimeSpan.Zero),
        LedPattern.Idle => (TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(1900)),
        LedPattern.Training => (TimeSpan.FromMilliseconds(500), TimeSpan.FromMilliseconds(500)),
        LedPattern.Inferring => (TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(100)),
        LedPattern.Error => (TimeSpan.FromSeconds(1), TimeSpan.Zero),
        _ => throw new ArgumentOutOfRangeException(nameof(pattern), pattern, "Unknown LED pattern."),
    };

    /// <summary>Whether the LED is lit <paramref name="sincePatternStart"/> after the pattern began.</summary>
    public static bool IsLitAt(LedPattern pattern, TimeSpan sincePatternStart)
    {
        var (on, off) = Of(pattern);
        if (on == TimeSpan.Zero) return false;
        if (off == TimeSpan.Zero) return true;
        long period = (on + off).Ticks;
        return sincePatternStart.Ticks % period < on.Ticks;
    }
}
