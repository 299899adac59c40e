using HyperTune.Shared.Pruners;

namespace HyperTune.Shared.Tests;

/// <summary>Curves and contexts the pruner tests share: a study of decaying losses, and its mirror image.</summary>
internal static class PrunerStudies
{
    public const string Metric = "val_loss";

    public static TrialCurve Curve(long id, params double[] values) => new(id, values, Finished: false);

    public static TrialCurve Finished(long id, params double[] values) => new(id, values, Finished: true);

    public static PrunerContext Context(TrialCurve trial, IEnumerable<TrialCurve> others, bool maximize = false) =>
        new(trial, [.. others], maximize, Metric);

    /// <summary>A loss falling from <paramref name="floor"/> + 0.6 towards <paramref name="floor"/> like a real learning curve.</summary>
    public static double[] Decaying(double floor, int epochs) =>
        [.. Enumerable.Range(1, epochs).Select(t => floor + (0.6 * Math.Pow(t, -0.7)))];

    /// <summary><paramref name="count"/> finished trials, ids from <paramref name="firstId"/>, each decaying to its own floor in [0.2, 0.6].</summary>
    public static List<TrialCurve> FinishedStudy(int count, int epochs = 27, long firstId = 1) =>
        [.. Enumerable.Range(0, count).Select(i => Finished(firstId + i, Decaying(0.2 + (0.4 * ((i * 7) % count) / count), epochs)))];

    /// <summary>The first <paramref name="epochs"/> values of a curve, as the trial looked after that epoch.</summary>
    public static TrialCurve At(this TrialCurve curve, int epochs) => curve with { Values = [.. curve.Values.Take(epochs)] };

    /// <summary>The same study with every value negated and the direction flipped: every pruner must decide alike.</summary>
    public static PrunerContext Mirror(this PrunerContext context) => context with
    {
        Trial = Negate(context.Trial),
        Others = [.. context.Others.Select(Negate)],
        Maximize = !context.Maximize,
    };

    private static TrialCurve Negate(TrialCurve curve) => curve with { Values = [.. curve.Values.Select(v => -v)] };
}
