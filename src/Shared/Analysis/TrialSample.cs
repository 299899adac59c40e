using HyperTune.Shared.Studies;

namespace HyperTune.Shared.Analysis;

/// <summary>
/// The trials a plot draws when a study has more than a browser draws quickly: the best quarter of the allowance by
/// objective value, so the region that matters is drawn in full, and an even spread (by trial number) of the rest, so
/// the overall shape and the bad regions stay visible. Deterministic: the same trials give the same sample.
/// </summary>
public static class TrialSample
{
    /// <summary>The most trials a study plot draws (1,000 lines or markers draw in well under 100 ms).</summary>
    public const int DefaultMax = 1_000;

    /// <summary>
    /// At most <paramref name="max"/> of <paramref name="trials"/>, in number order; all of them when they fit. The best
    /// ⌈max / 4⌉ by value in <paramref name="direction"/> are always kept (ties by the lower number), then every k-th of the rest.
    /// </summary>
    public static IReadOnlyList<ScoredTrial> Choose(IReadOnlyList<ScoredTrial> trials, Direction direction, int max = DefaultMax)
    {
        if (max < 4)
        {
            throw new ArgumentOutOfRangeException(nameof(max), max, "max must be at least 4");
        }

        if (trials.Count <= max)
        {
            return trials;
        }

        var bestCount = (max + 3) / 4;
        var ranked = direction == Direction.Maximize
            ? trials.OrderByDescending(t => t.Value).ThenBy(t => t.Number)
            : trials.OrderBy(t => t.Value).ThenBy(t => t.Number);
        var best = ranked.Take(bestCount).Select(t => t.Number).ToHashSet();
        var rest = trials.Where(t => !best.Contains(t.Number)).OrderBy(t => t.Number).ToList();
        var spread = max - bestCount;
        var kept = new HashSet<int>(best);
        for (var i = 0; i < spread; i++)
        {
            // Evenly spaced over the rest, first and last included.
            kept.Add(rest[(int)((long)i * (rest.Count - 1) / Math.Max(1, spread - 1))].Number);
        }

        return [.. trials.Where(t => kept.Contains(t.Number)).OrderBy(t => t.Number)];
    }
}
