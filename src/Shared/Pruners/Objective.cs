using System.Globalization;

namespace HyperTune.Shared.Pruners;

/// <summary>How pruners order objective values: the study's direction decides, and NaN is worse than anything, ±Inf included.</summary>
internal static class Objective
{
    /// <summary>Negative when <paramref name="a"/> is better than <paramref name="b"/>, zero when they tie, positive when worse.</summary>
    public static int Compare(double a, double b, bool maximize)
    {
        if (double.IsNaN(a) || double.IsNaN(b))
        {
            return double.IsNaN(a).CompareTo(double.IsNaN(b));
        }

        return maximize ? b.CompareTo(a) : a.CompareTo(b);
    }

    public static bool IsWorse(double a, double b, bool maximize) => Compare(a, b, maximize) > 0;

    /// <summary>The best value of a curve, NaN when it has none.</summary>
    public static double Best(IEnumerable<double> values, bool maximize) =>
        values.Aggregate(double.NaN, (best, v) => Compare(v, best, maximize) < 0 ? v : best);

    /// <summary>The values sorted best first.</summary>
    public static double[] Ranked(IEnumerable<double> values, bool maximize)
    {
        var ranked = values.ToArray();
        Array.Sort(ranked, (a, b) => Compare(a, b, maximize));
        return ranked;
    }

    /// <summary>The curves of other trials that reported epoch <paramref name="epoch"/>, with their value there.</summary>
    public static List<double> ValuesAt(IEnumerable<TrialCurve> curves, int epoch) =>
        [.. curves.Where(c => c.Values.Count >= epoch).Select(c => c.Values[epoch - 1])];

    public static string Format(double value) => value.ToString("G4", CultureInfo.InvariantCulture);

    /// <summary>Continue before the first epoch, stop when the latest report is NaN (nothing can rank it), null otherwise.</summary>
    public static PruneDecision? Unrankable(PrunerContext context) => context.Trial.Values switch
    {
        [] => PruneDecision.Continue,
        [.., var latest] when double.IsNaN(latest) =>
            PruneDecision.Stop($"pruned at epoch {context.Trial.Values.Count}: {context.Metric} is NaN, which counts as worse than any value"),
        _ => null,
    };

    public static string Plural(int count, string noun) => count == 1 ? $"1 {noun}" : $"{count} {noun}s";
}
