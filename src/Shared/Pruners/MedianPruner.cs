namespace HyperTune.Shared.Pruners;

/// <summary>
/// Stops a trial whose best value so far is worse than the median, at the same epoch, of the trials that have
/// finished; it waits for <c>startupTrials</c> finished trials and lets every trial run <c>warmupEpochs</c> first,
/// but stops a trial that reports NaN at once.
/// </summary>
public sealed class MedianPruner : IPruner
{
    public MedianPruner(int startupTrials = 5, int warmupEpochs = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(startupTrials);
        ArgumentOutOfRangeException.ThrowIfNegative(warmupEpochs);
        StartupTrials = startupTrials;
        WarmupEpochs = warmupEpochs;
    }

    public int StartupTrials { get; }

    public int WarmupEpochs { get; }

    public PruneDecision Decide(PrunerContext context)
    {
        // A NaN is divergence, not early noise: warmup and startup do not shelter it.
        if (Objective.Unrankable(context) is { } early)
        {
            return early;
        }

        var values = context.Trial.Values;
        var epoch = values.Count;
        if (epoch <= WarmupEpochs)
        {
            return PruneDecision.Continue;
        }

        var finished = context.Others.Where(c => c.Finished).ToList();
        if (finished.Count < StartupTrials)
        {
            return PruneDecision.Continue;
        }

        var peers = Objective.ValuesAt(finished, epoch);
        if (peers.Count == 0)
        {
            return PruneDecision.Continue;
        }

        var median = Median(Objective.Ranked(peers, context.Maximize), context.Maximize);
        var best = Objective.Best(values, context.Maximize);
        if (!Objective.IsWorse(best, median, context.Maximize))
        {
            return PruneDecision.Continue;
        }

        var subject = best == values[^1]
            ? $"{context.Metric} {Objective.Format(best)}"
            : $"its best {context.Metric} so far {Objective.Format(best)}";
        return PruneDecision.Stop(
            $"pruned at epoch {epoch}: {subject} is worse than the median {Objective.Format(median)} " +
            $"of {Objective.Plural(peers.Count, "finished trial")} at epoch {epoch}");
    }

    // The mean of the two middle values, unless one is not finite: then the worse of the two, so NaN never averages in.
    private static double Median(double[] ranked, bool maximize)
    {
        var upper = ranked[(ranked.Length - 1) / 2];
        var lower = ranked[ranked.Length / 2];
        if (double.IsFinite(upper) && double.IsFinite(lower))
        {
            return (upper + lower) / 2;
        }

        return Objective.IsWorse(upper, lower, maximize) ? upper : lower;
    }
}
