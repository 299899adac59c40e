using HyperTune.Shared.Studies;

namespace HyperTune.Shared.Analysis;

/// <summary>After trial <paramref name="Number"/> the best objective value is <paramref name="Value"/>.</summary>
public readonly record struct BestPoint(int Number, double Value);

/// <summary>The best objective value over the trials in number order, kept to the trials that improved it and the last one.</summary>
public static class BestSoFar
{
    /// <summary>
    /// The steps of the best-so-far curve: one point per strict improvement, then the last trial's number with the best
    /// value (so the curve reaches the end). Non-finite values never improve it. Ten thousand trials give a few dozen points.
    /// </summary>
    public static IReadOnlyList<BestPoint> Series(IEnumerable<ScoredTrial> trials, Direction direction)
    {
        var points = new List<BestPoint>();
        var best = double.NaN;
        var last = (int?)null;
        foreach (var trial in trials.Where(t => double.IsFinite(t.Value)).OrderBy(t => t.Number))
        {
            last = trial.Number;
            if (double.IsNaN(best) || (direction == Direction.Maximize ? trial.Value > best : trial.Value < best))
            {
                best = trial.Value;
                points.Add(new BestPoint(trial.Number, best));
            }
        }

        if (last is { } end && points[^1].Number != end)
        {
            points.Add(new BestPoint(end, best));
        }

        return points;
    }
}
