using HyperTune.Dashboard.Data;
using HyperTune.Shared.Studies;
using HyperTune.Shared.Trials;

namespace HyperTune.Dashboard.Studies;

/// <summary>
/// Which trials' learning curves the study page draws. A study of 10,000 trials cannot send every curve to a browser
/// at each update, and nobody reads 10,000 lines: the page draws the running trials, the best finished ones and any a
/// person picked, at most <see cref="DefaultMax"/> in all, and says how many it leaves out.
/// </summary>
public static class CurveSelection
{
    public const int DefaultMax = 60;

    /// <summary>
    /// Picked trials first, then running ones, then the best by objective, until <paramref name="max"/> trials; LR range
    /// tests are never drawn as learning curves. The result is in trial number order.
    /// </summary>
    public static IReadOnlyList<TrialView> Choose(IEnumerable<TrialView> trials, Objective objective, int max, IReadOnlySet<long>? picked = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(max);
        var training = trials.Where(t => t.Kind == TrialKind.Training).ToList();
        var ranked = training.Where(t => picked?.Contains(t.Id) == true)
            .Concat(training.Where(t => t.State == TrialState.Running).OrderByDescending(t => t.Number))
            .Concat(training.Where(t => t.BestValue is not null)
                .OrderBy(t => t.BestValue!.Value * (objective.Direction == Direction.Maximize ? -1 : 1)).ThenBy(t => t.Number))
            .DistinctBy(t => t.Id)
            .Take(max);
        return [.. ranked.OrderBy(t => t.Number)];
    }
}
