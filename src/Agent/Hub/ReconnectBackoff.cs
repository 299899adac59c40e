namespace HyperTune.Agent.Hub;

/// <summary>Exponential back-off from half a second, capped, with jitter so that many agents do not redial in step.</summary>
public sealed class ReconnectBackoff(TimeSpan max, Random? random = null)
{
    private static readonly TimeSpan First = TimeSpan.FromMilliseconds(500);
    private readonly Random _random = random ?? Random.Shared;
    private int _failures;

    public TimeSpan Max { get; } = max;

    /// <summary>The wait before the next attempt: 0.5 s × 2^failures, capped at <see cref="Max"/>, then scaled by a random factor in [0.5, 1].</summary>
    public TimeSpan Next()
    {
        var exponential = First.TotalSeconds * Math.Pow(2, Math.Min(_failures, 30));
        _failures++;
        var capped = Math.Min(exponential, Max.TotalSeconds);
        return TimeSpan.FromSeconds(capped * (0.5 + (_random.NextDouble() / 2)));
    }

    /// <summary>The slow wait used after a refusal that retrying soon will not cure (a wrong token): the cap, with jitter.</summary>
    public TimeSpan Slow() => TimeSpan.FromSeconds(Max.TotalSeconds * (0.75 + (_random.NextDouble() / 4)));

    public void Reset() => _failures = 0;
}
