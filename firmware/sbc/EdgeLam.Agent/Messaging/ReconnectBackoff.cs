namespace EdgeLam.Agent.Messaging;

/// <summary>
/// Exponential backoff with jitter for reconnecting ("full jitter" halved: each delay is drawn from
/// [d/2, d] where d doubles per failure up to the maximum), so a fleet does not reconnect in lockstep.
/// </summary>
public sealed class ReconnectBackoff
{
    private readonly TimeSpan _initial;
    private readonly TimeSpan _maximum;
    private readonly Random _random;
    private int _failures;

    /// <summary>A backoff starting at <paramref name="initial"/> and capped at <paramref name="maximum"/>.</summary>
    public ReconnectBackoff(TimeSpan initial, TimeSpan maximum, Random? random = null)
    {
        if (initial <= TimeSpan.Zero || maximum < initial)
            throw new ArgumentException($"Backoff needs 0 < initial ({initial}) <= maximum ({maximum}).", nameof(maximum));
        _initial = initial;
        _maximum = maximum;
        _random = random ?? Random.Shared;
    }

    /// <summary>Failed attempts since the last success.</summary>
    public int Failures => _failures;

    /// <summary>The ceiling of the next delay: initial x 2^failures, at most the maximum.</summary>
    public TimeSpan CurrentCeiling
    {
        get
        {
            double factor = Math.Pow(2, Math.Min(_failures, 30));
            double ticks = Math.Min(_initial.Ticks * factor, _maximum.Ticks);
            return TimeSpan.FromTicks((long)ticks);
        }
    }

    /// <summary>Records a failed attempt and returns how long to wait before the next.</summary>
    public TimeSpan NextDelay()
    {
        TimeSpan ceiling = CurrentCeiling;
        _failures++;
        double fraction = 0.5 + (0.5 * _random.NextDouble());
        return TimeSpan.FromTicks((long)(ceiling.Ticks * fraction));
    }

    /// <summary>Records a success: the next failure starts again at the initial delay.</summary>
    public void Reset() => _failures = 0;
}
