using HyperTune.Dashboard.Data;
using HyperTune.Shared.Analysis;
using HyperTune.Shared.Studies;
using HyperTune.Shared.Trials;

namespace HyperTune.Dashboard.Components.Charts;

/// <summary>
/// What the study page's plots draw, built off the circuit's thread from one snapshot: the finished training trials with
/// a finite best value (a running trial's best is still moving), in trial number order, with the parameter axes and the
/// best-so-far steps.
/// </summary>
public sealed class StudyPlotData
{
    private StudyPlotData(StudyDefinition definition, IReadOnlyList<ScoredTrial> trials, IReadOnlyList<ParameterAxis> axes, IReadOnlyList<BestPoint> bestSoFar)
    {
        Definition = definition;
        Trials = trials;
        Axes = axes;
        BestSoFar = bestSoFar;
        Sample = TrialSample.Choose(trials, definition.Objective.Direction);
    }

    public StudyDefinition Definition { get; }

    public Objective Objective => Definition.Objective;

    /// <summary>The trials drawn, in trial number order.</summary>
    public IReadOnlyList<ScoredTrial> Trials { get; }

    /// <summary>
    /// The trials drawn one by one (lines, markers): all of them up to <see cref="TrialSample.DefaultMax"/>, past that the
    /// best and an even spread of the rest, so a 10,000-trial study draws as fast as a 1,000-trial one. Axes, best so far,
    /// contours and importance use every trial.
    /// </summary>
    public IReadOnlyList<ScoredTrial> Sample { get; }

    /// <summary>True when <see cref="Sample"/> leaves trials out.</summary>
    public bool IsSampled => Sample.Count < Trials.Count;

    /// <summary>A caption for a plot of <see cref="Sample"/> that leaves trials out; null when it draws them all.</summary>
    public string? SampleNote => IsSampled
        ? $"{Sample.Count:N0} of {Trials.Count:N0} trials drawn: the best {(Sample.Count + 3) / 4:N0} and an even spread of the rest"
        : null;

    /// <summary>One axis per searched parameter, in the spec's order.</summary>
    public IReadOnlyList<ParameterAxis> Axes { get; }

    public IReadOnlyList<BestPoint> BestSoFar { get; }

    /// <summary>True when a trial is drawn: a training trial that has ended with a finite best value.</summary>
    public static bool IsPlotted(TrialView trial) =>
        trial.Kind == TrialKind.Training && trial.State.IsFinal() && trial.BestValue is { } v && double.IsFinite(v);

    /// <summary>The trials to draw from <paramref name="trials"/>, in number order (cheap: run it on the circuit's thread, build off it).</summary>
    public static IReadOnlyList<ScoredTrial> Plottable(IEnumerable<TrialView> trials) =>
        [.. trials.Where(IsPlotted).OrderBy(t => t.Number).Select(t => new ScoredTrial(t.Number, t.BestValue!.Value, t.Params))];

    /// <summary>A number that changes whenever a drawn trial appears, leaves or changes value; equal numbers mean nothing to redraw.</summary>
    public static long Fingerprint(IEnumerable<TrialView> trials)
    {
        long sum = 0, count = 0;
        foreach (var trial in trials.Where(IsPlotted))
        {
            count++;
            sum = unchecked(sum + HashCode.Combine(trial.Id, trial.Attempt, trial.State, trial.BestValue));
        }

        return unchecked(sum + (count << 40));
    }

    /// <summary>The axes and best-so-far steps of <paramref name="trials"/> (already <see cref="Plottable"/>).</summary>
    public static StudyPlotData Build(StudyDefinition definition, IReadOnlyList<ScoredTrial> trials) =>
        new(definition, trials,
            [.. definition.Space.Parameters.Select(p => ParameterAxis.For(p, trials.Select(t => t.Params)))],
            HyperTune.Shared.Analysis.BestSoFar.Series(trials, definition.Objective.Direction));

    /// <summary>
    /// The trials added since <paramref name="drawn"/> when that is all that changed (same study, same axes, every drawn
    /// trial still there with its value, neither sampled), so a chart can append them; null when the chart has to be drawn anew.
    /// A finished trial's parameters never change, so its number and value identify it.
    /// </summary>
    public IReadOnlyList<ScoredTrial>? AppendedSince(StudyPlotData? drawn)
    {
        // A sampled plot is small: it is drawn anew, as the sample itself changes with the best trials.
        if (drawn is null || drawn.IsSampled || IsSampled || !ReferenceEquals(drawn.Definition, Definition) || drawn.Trials.Count > Trials.Count
            || !drawn.Axes.Zip(Axes).All(a => a.First.Low == a.Second.Low && a.First.High == a.Second.High))
        {
            return null;
        }

        var now = Trials.ToDictionary(t => t.Number, t => t.Value);
        foreach (var trial in drawn.Trials)
        {
            if (!now.Remove(trial.Number, out var value) || value != trial.Value)
            {
                return null;
            }
        }

        return [.. Trials.Where(t => now.ContainsKey(t.Number))];
    }
}
