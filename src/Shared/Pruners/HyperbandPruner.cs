namespace HyperTune.Shared.Pruners;

/// <summary>
/// Hyperband as brackets of asynchronous successive halving: bracket s holds its first rung at minEpochs·η^s, each trial
/// belongs to one bracket chosen from its id (more trials to the more aggressive brackets, as Optuna weighs them),
/// and it is ranked only against the trials of its own bracket.
/// </summary>
public sealed class HyperbandPruner : IPruner
{
    private readonly AshaPruner[] _brackets;
    private readonly int[] _weights;

    public HyperbandPruner(int minEpochs, int maxEpochs, int reductionFactor = 3)
    {
        // The most aggressive bracket is plain ASHA; building it first checks the arguments under the same names.
        var first = new AshaPruner(minEpochs, reductionFactor, maxEpochs);
        MinEpochs = minEpochs;
        MaxEpochs = maxEpochs;
        ReductionFactor = reductionFactor;

        var firstRungs = new List<int>();
        for (long rung = minEpochs; rung <= maxEpochs; rung *= reductionFactor)
        {
            firstRungs.Add((int)rung);
        }

        var count = firstRungs.Count;
        _brackets = [first, .. firstRungs.Skip(1).Select(rung => new AshaPruner(rung, reductionFactor, maxEpochs))];

        // Hyperband's n for bracket s, ⌈B·η^(B-1-s)/(B-s)⌉, used as the bracket's share of trials.
        _weights = [.. Enumerable.Range(0, count).Select(s => (int)Math.Ceiling(count * Math.Pow(reductionFactor, count - 1 - s) / (count - s)))];
    }

    public int MinEpochs { get; }

    public int MaxEpochs { get; }

    public int ReductionFactor { get; }

    /// <summary>How many brackets there are; the last one starts ranking at maxEpochs, so it never prunes.</summary>
    public int BracketCount => _brackets.Length;

    /// <summary>The bracket (0 = the most aggressive) of a trial: the same id always lands in the same bracket.</summary>
    public int BracketOf(long trialId)
    {
        // Fibonacci hashing spreads consecutive ids; string.GetHashCode would differ between processes.
        var hash = (int)((((ulong)trialId * 0x9E3779B97F4A7C15UL) >> 33) % (ulong)_weights.Sum());
        var bracket = 0;
        while (hash >= _weights[bracket])
        {
            hash -= _weights[bracket++];
        }

        return bracket;
    }

    public PruneDecision Decide(PrunerContext context)
    {
        var bracket = BracketOf(context.Trial.TrialId);
        var pruner = _brackets[bracket];
        if (!pruner.IsRung(context.Trial.Values.Count))
        {
            return PruneDecision.Continue;
        }

        var mates = context.Others.Where(c => BracketOf(c.TrialId) == bracket).ToList();
        return pruner.Decide(
            context with { Others = mates },
            $", within Hyperband bracket {bracket + 1} of {BracketCount} (first rung at epoch {pruner.MinEpochs})");
    }
}
