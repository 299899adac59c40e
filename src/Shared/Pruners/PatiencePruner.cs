namespace HyperTune.Shared.Pruners;

/// <summary>
/// Stops a trial once <c>patience</c> epochs in a row failed to beat its best value by more than <c>minDelta</c>
/// (Keras' EarlyStopping rule); it looks at the trial's own curve only, so it also stops a plateaued leader.
/// </summary>
public sealed class PatiencePruner : IPruner
{
    public PatiencePruner(int patience, double minDelta = 0)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(patience, 1);
        if (!double.IsFinite(minDelta) || minDelta < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(minDelta), minDelta, $"minDelta must be a finite number >= 0, got {minDelta}");
        }

        Patience = patience;
        MinDelta = minDelta;
    }

    public int Patience { get; }

    public double MinDelta { get; }

    public PruneDecision Decide(PrunerContext context)
    {
        if (Objective.Unrankable(context) is { } early)
        {
            return early;
        }

        var values = context.Trial.Values;
        var epoch = values.Count;

        // Replay the curve: small gains accumulate until together they beat minDelta, as in Keras.
        var best = double.NaN;
        var bestEpoch = 0;
        var stale = 0;
        for (var i = 0; i < epoch; i++)
        {
            if (double.IsNaN(best) ? !double.IsNaN(values[i]) : Improves(values[i], best, context.Maximize))
            {
                best = values[i];
                bestEpoch = i + 1;
                stale = 0;
            }
            else
            {
                stale++;
            }
        }

        if (stale < Patience)
        {
            return PruneDecision.Continue;
        }

        var by = MinDelta > 0 ? $" by more than {Objective.Format(MinDelta)}" : "";
        return PruneDecision.Stop(
            $"pruned at epoch {epoch}: {context.Metric} {Objective.Format(values[^1])} has not improved{by} on its best " +
            $"{Objective.Format(best)} (epoch {bestEpoch}) for {Objective.Plural(stale, "epoch")}; patience is {Patience}");
    }

    private bool Improves(double value, double best, bool maximize) =>
        maximize ? value > best + MinDelta : value < best - MinDelta;
}
