namespace HyperTune.Shared.Pruners;

/// <summary>
/// Asynchronous successive halving: at rung epochs minEpochs·η^k (below maxEpochs) a trial continues only if it ranks in
/// the top ⌊n/η⌋ of the n trials that reached that rung, itself included, or is the best there while n &lt; η.
/// </summary>
public sealed class AshaPruner : IPruner
{
    public AshaPruner(int minEpochs = 1, int reductionFactor = 3, int? maxEpochs = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(minEpochs, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(reductionFactor, 2);
        if (maxEpochs < minEpochs)
        {
            throw new ArgumentOutOfRangeException(nameof(maxEpochs), maxEpochs, $"maxEpochs must be >= minEpochs ({minEpochs}), got {maxEpochs}");
        }

        MinEpochs = minEpochs;
        ReductionFactor = reductionFactor;
        MaxEpochs = maxEpochs;
    }

    public int MinEpochs { get; }

    public int ReductionFactor { get; }

    /// <summary>The epoch every trial ends at, when known: no rung is held there or later.</summary>
    public int? MaxEpochs { get; }

    /// <summary>True when a trial is ranked after reporting <paramref name="epoch"/>.</summary>
    public bool IsRung(int epoch)
    {
        if (epoch < MinEpochs || epoch >= MaxEpochs)
        {
            return false;
        }

        long rung = MinEpochs;
        while (rung < epoch)
        {
            rung *= ReductionFactor;
        }

        return rung == epoch;
    }

    public PruneDecision Decide(PrunerContext context) => Decide(context, "");

    /// <summary>Decides among <paramref name="context"/>'s trials; <paramref name="scope"/> ends the sentence (Hyperband names its bracket).</summary>
    internal PruneDecision Decide(PrunerContext context, string scope)
    {
        var values = context.Trial.Values;
        var epoch = values.Count;
        if (!IsRung(epoch))
        {
            return PruneDecision.Continue;
        }

        if (Objective.Unrankable(context) is { } nan)
        {
            return nan;
        }

        var value = values[^1];

        // Trials pruned earlier never reach this epoch, so "reported this epoch" is "reached this rung".
        var rung = Objective.ValuesAt(context.Others, epoch);
        rung.Add(value);
        var keep = Math.Max(1, rung.Count / ReductionFactor);
        var cutoff = Objective.Ranked(rung, context.Maximize)[keep - 1];
        if (!Objective.IsWorse(value, cutoff, context.Maximize))
        {
            return PruneDecision.Continue;
        }

        var top = keep == 1 ? "the best" : $"the best {keep}";
        return PruneDecision.Stop(
            $"pruned at epoch {epoch}, a successive-halving rung: {context.Metric} {Objective.Format(value)} is worse than " +
            $"{Objective.Format(cutoff)}, the cutoff for {top} of {Objective.Plural(rung.Count, "trial")} at epoch {epoch} " +
            $"(top 1/{ReductionFactor} continue){scope}");
    }
}
