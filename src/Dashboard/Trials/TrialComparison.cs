using System.Globalization;
using HyperTune.Dashboard.Components;
using HyperTune.Dashboard.Data;
using HyperTune.Shared.SearchSpaces;
using HyperTune.Shared.Studies;
using HyperTune.Shared.Trials;

namespace HyperTune.Dashboard.Trials;

/// <summary>Which block of the comparison a row belongs to.</summary>
public enum ComparisonSection
{
    Parameters,
    Metrics,
    Run,
}

/// <summary>How a trial's value differs from the baseline trial's.</summary>
public enum DeltaTone
{
    /// <summary>Equal to the baseline's.</summary>
    Same,

    /// <summary>A better objective value, by the study's direction.</summary>
    Better,

    /// <summary>A worse objective value, by the study's direction.</summary>
    Worse,

    /// <summary>A larger number where neither way is better.</summary>
    Higher,

    /// <summary>A smaller number where neither way is better.</summary>
    Lower,

    /// <summary>Another category, or a value on one side only.</summary>
    Changed,
}

/// <summary>A value against the baseline's: numbers carry the absolute and (when the baseline is not 0) the relative difference.</summary>
public sealed record ComparisonDelta(DeltaTone Tone, double? Absolute, double? Relative, string Text);

/// <summary>One trial's value in a row ("—" when it has none) and its delta; null delta in the baseline's own column.</summary>
public sealed record ComparisonCell(long TrialId, int TrialNumber, string Text, ComparisonDelta? Delta);

/// <summary>One compared quantity, a cell per trial; <paramref name="Identical"/> when every trial has the same value.</summary>
public sealed record ComparisonRow(string Name, ComparisonSection Section, IReadOnlyList<ComparisonCell> Cells, bool Identical);

/// <summary>The trials a compare URL asks for, as trial numbers, its baseline, and what was wrong with it (null when nothing).</summary>
public sealed record ComparisonPick(IReadOnlyList<int> Numbers, int? Baseline, string? Problem);

/// <summary>
/// Trials side by side: every parameter (union over the trials), the objective's best and last value and every other
/// metric's last value, then state, epochs done, duration, agent and origin; each value with its delta to a baseline trial.
/// </summary>
public sealed class TrialComparison
{
    /// <summary>The fewest trials a comparison shows.</summary>
    public const int MinTrials = 2;

    /// <summary>The most trials a comparison shows (more columns no longer fit a screen).</summary>
    public const int MaxTrials = 6;

    /// <summary>What a cell shows for a value the trial does not have.</summary>
    public const string Missing = "—";

    private readonly Objective objective;
    private readonly DateTimeOffset now;
    private readonly IReadOnlyDictionary<long, int> numbers;

    /// <summary>Compares <paramref name="trials"/> (in the given order) against <paramref name="baselineTrialId"/>.</summary>
    /// <param name="objective">The study's objective: its rows are coloured better or worse by its direction.</param>
    /// <param name="trials">The 2 to 6 trials compared, each once.</param>
    /// <param name="epochs">Their stored epochs (others are ignored).</param>
    /// <param name="baselineTrialId">The trial the deltas are taken against; one of <paramref name="trials"/>.</param>
    /// <param name="now">The time a running trial's duration runs to.</param>
    /// <param name="parameterOrder">Parameters shown first, in this order (the search space's); others follow by name.</param>
    /// <param name="trialNumbers">Id → number of the study's trials, to name the source of a clone or fork.</param>
    public TrialComparison(Objective objective, IReadOnlyList<TrialView> trials, IReadOnlyList<EpochPoint> epochs, long baselineTrialId,
        DateTimeOffset now, IReadOnlyList<string>? parameterOrder = null, IReadOnlyDictionary<long, int>? trialNumbers = null)
    {
        if (trials.Count is < MinTrials or > MaxTrials)
        {
            throw new ArgumentException($"trials must hold {MinTrials} to {MaxTrials} trials, got {trials.Count}", nameof(trials));
        }

        if (trials.Select(t => t.Id).Distinct().Count() != trials.Count)
        {
            throw new ArgumentException($"trials must name each trial once, got #{string.Join(", #", trials.Select(t => t.Number))}", nameof(trials));
        }

        Baseline = trials.FirstOrDefault(t => t.Id == baselineTrialId) ?? throw new ArgumentException(
            $"baselineTrialId must be one of the compared trials (ids {string.Join(", ", trials.Select(t => t.Id))}), got {baselineTrialId}", nameof(baselineTrialId));
        this.objective = objective;
        this.now = now;
        numbers = trialNumbers ?? trials.ToDictionary(t => t.Id, t => t.Number);
        Trials = trials;
        var byTrial = epochs.ToLookup(e => e.TrialId);
        Rows = [.. ParameterRows(parameterOrder ?? []), .. MetricRows(byTrial), .. RunRows()];
    }

    /// <summary>The compared trials, in column order.</summary>
    public IReadOnlyList<TrialView> Trials { get; }

    /// <summary>The trial the deltas are taken against.</summary>
    public TrialView Baseline { get; }

    /// <summary>Every row: parameters, then metrics, then how the trial ran.</summary>
    public IReadOnlyList<ComparisonRow> Rows { get; }

    /// <summary>The rows to show: all of them, or only those where some trial differs.</summary>
    public IEnumerable<ComparisonRow> Visible(bool hideIdentical) => hideIdentical ? Rows.Where(r => !r.Identical) : Rows;

    /// <summary>The metric names the compared trials reported, sorted (for the learning-curve selector).</summary>
    public static IReadOnlyList<string> MetricNames(IEnumerable<EpochPoint> epochs, string objectiveMetric) =>
        [.. epochs.SelectMany(e => e.Metrics.Keys).Append(objectiveMetric).Distinct().Order(StringComparer.Ordinal)];

    /// <summary>
    /// Reads the query of a compare URL: <paramref name="trials"/> is a comma-separated list of trial numbers ("3,7,9", "#3" allowed),
    /// kept when <paramref name="known"/> holds them, at most <see cref="MaxTrials"/>; the baseline falls back to the first trial.
    /// </summary>
    public static ComparisonPick ParsePick(string? trials, int? baseline, IReadOnlyCollection<int> known)
    {
        var picked = new List<int>();
        var problems = new List<string>();
        foreach (var token in (trials ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            if (!int.TryParse(token.TrimStart('#'), NumberStyles.None, CultureInfo.InvariantCulture, out var number))
            {
                problems.Add($"trials: '{token}' is not a trial number");
            }
            else if (!known.Contains(number))
            {
                problems.Add($"trials: there is no trial #{number} to compare in this study");
            }
            else if (!picked.Contains(number))
            {
                picked.Add(number);
            }
        }

        if (picked.Count > MaxTrials)
        {
            problems.Add($"trials: at most {MaxTrials} trials can be compared, got {picked.Count}; showing #{string.Join(", #", picked.Take(MaxTrials))}");
            picked = [.. picked.Take(MaxTrials)];
        }

        if (baseline is { } b && !picked.Contains(b))
        {
            problems.Add($"baseline: #{b} is not among the compared trials; using #{(picked.Count > 0 ? picked[0] : "—")}");
        }

        var chosen = baseline is { } wanted && picked.Contains(wanted) ? wanted : picked.Count > 0 ? picked[0] : (int?)null;
        return new ComparisonPick(picked, chosen, problems.Count == 0 ? null : string.Join("; ", problems));
    }

    /// <summary>Where a trial came from, in words: "sampled", "clone of #3", "fork of #3 from epoch 2", "resumed from its epoch 4".</summary>
    public static string Origin(TrialView trial, IReadOnlyDictionary<long, int> trialNumbers)
    {
        if (trial.ClonedFromTrialId is { } from)
        {
            var source = trialNumbers.TryGetValue(from, out var n) ? $"#{n}" : $"trial {from}";
            return trial.Resume is { } fork && fork.TrialId == from ? $"fork of {source} from epoch {fork.Epoch}" : $"clone of {source}";
        }

        if (trial.Resume is { } resumed && resumed.TrialId == trial.Id)
        {
            return $"resumed from its epoch {resumed.Epoch}";
        }

        return trial.StageIndex > 0 ? $"sampled in stage {trial.StageIndex + 1}" : "sampled";
    }

    private IEnumerable<ComparisonRow> ParameterRows(IReadOnlyList<string> order)
    {
        var names = Trials.SelectMany(t => t.Params.Keys).Distinct().ToList();
        var ordered = order.Where(names.Contains).Concat(names.Where(n => !order.Contains(n)).Order(StringComparer.Ordinal));
        foreach (var name in ordered)
        {
            yield return Row(name, ComparisonSection.Parameters, ValueFormat.Parameter, false, t => t.Params.TryGetValue(name, out var v)
                ? v.Kind == ParamKind.Number ? Value.Of(v.Number) : Value.Of(v.ToString())
                : Value.None);
        }
    }

    private IEnumerable<ComparisonRow> MetricRows(ILookup<long, EpochPoint> epochs)
    {
        var name = objective.Metric;
        yield return Row($"{name} (best)", ComparisonSection.Metrics, ValueFormat.Metric, true, t => Value.Of(t.BestValue));
        yield return Row($"{name} (last)", ComparisonSection.Metrics, ValueFormat.Metric, true,
            t => LastValue(epochs[t.Id], name) is { } v ? Value.Of(v) : Value.Of(t.LastValue));
        var others = Trials.SelectMany(t => epochs[t.Id]).SelectMany(e => e.Metrics.Keys).Distinct()
            .Where(m => m != name).Order(StringComparer.Ordinal);
        foreach (var metric in others)
        {
            yield return Row($"{metric} (last)", ComparisonSection.Metrics, ValueFormat.Metric, false, t => Value.Of(LastValue(epochs[t.Id], metric)));
        }
    }

    private IEnumerable<ComparisonRow> RunRows()
    {
        yield return Row("state", ComparisonSection.Run, ValueFormat.Text, false, t => Value.Of(t.State.ToWire()));
        yield return Row("epochs done", ComparisonSection.Run, ValueFormat.Count, false, t => Value.Of(t.EpochCount));
        // Whole seconds: a difference of a fraction of a second is noise, not a change.
        yield return Row("duration", ComparisonSection.Run, ValueFormat.Duration, false, t => t.StartedAt is { } start
            ? Value.Of(Math.Max(0, Math.Round(((t.EndedAt ?? now) - start).TotalSeconds)))
            : Value.None);
        yield return Row("agent", ComparisonSection.Run, ValueFormat.Text, false, t => t.AgentId is { } a ? Value.Of(a) : Value.None);
        yield return Row("origin", ComparisonSection.Run, ValueFormat.Text, false, t => Value.Of(Origin(t, numbers)));
    }

    // The latest report (highest attempt, then epoch) that carries the metric.
    private static double? LastValue(IEnumerable<EpochPoint> epochs, string metric) =>
        epochs.Where(e => e.Metrics.ContainsKey(metric)).OrderBy(e => e.Attempt).ThenBy(e => e.Epoch).LastOrDefault()?.Metrics[metric];

    private ComparisonRow Row(string name, ComparisonSection section, ValueFormat format, bool isObjective, Func<TrialView, Value> read)
    {
        var values = Trials.Select(read).ToList();
        var baseline = read(Baseline);
        var cells = Trials.Select((t, i) => new ComparisonCell(t.Id, t.Number, values[i].Show(format),
            t.Id == Baseline.Id ? null : Delta(values[i], baseline, format, isObjective))).ToList();
        return new ComparisonRow(name, section, cells, values.All(v => v.Equals(values[0])));
    }

    private ComparisonDelta Delta(Value value, Value baseline, ValueFormat format, bool isObjective)
    {
        if (value.Equals(baseline))
        {
            return new ComparisonDelta(DeltaTone.Same, value.Number is null ? null : 0, value.Number is null ? null : 0, "");
        }

        if (value.Number is not { } v || baseline.Number is not { } b)
        {
            return new ComparisonDelta(DeltaTone.Changed, null, null, "changed");
        }

        if (!double.IsFinite(v) || !double.IsFinite(b))
        {
            return new ComparisonDelta(isObjective ? Ranked(v, b) : DeltaTone.Changed, null, null, "changed");
        }

        var absolute = v - b;
        double? relative = b == 0 ? null : absolute / Math.Abs(b);
        var tone = isObjective ? Ranked(v, b) : absolute > 0 ? DeltaTone.Higher : DeltaTone.Lower;
        var text = Signed(absolute, format) + (relative is { } r ? FormattableString.Invariant($" ({Sign(r)}{Math.Abs(r * 100):0.#}%)") : "");
        return new ComparisonDelta(tone, absolute, relative, text);
    }

    private DeltaTone Ranked(double value, double baseline) =>
        objective.IsBetter(value, baseline) ? DeltaTone.Better : objective.IsBetter(baseline, value) ? DeltaTone.Worse : DeltaTone.Same;

    private static string Sign(double value) => value < 0 ? "−" : "+";

    private static string Signed(double value, ValueFormat format) => Sign(value) + format switch
    {
        ValueFormat.Count => Math.Abs(value).ToString("0", CultureInfo.InvariantCulture),
        ValueFormat.Duration => Duration(Math.Abs(value)),
        _ => Math.Abs(value).ToString("G4", CultureInfo.InvariantCulture),
    };

    /// <summary>Seconds in words: "42 s", "3 min 05 s", "2 h 07 min".</summary>
    public static string Duration(double seconds)
    {
        var span = TimeSpan.FromSeconds(Math.Round(seconds));
        return span.TotalHours >= 1 ? FormattableString.Invariant($"{(int)span.TotalHours} h {span.Minutes:00} min")
            : span.TotalMinutes >= 1 ? FormattableString.Invariant($"{span.Minutes} min {span.Seconds:00} s")
            : FormattableString.Invariant($"{span.Seconds} s");
    }

    private enum ValueFormat
    {
        Parameter,
        Metric,
        Count,
        Duration,
        Text,
    }

    // A number or a text, or neither when the trial has no value; NaN equals NaN so a row of NaNs counts as identical.
    private readonly record struct Value(double? Number, string? Text)
    {
        public static Value None => default;

        public static Value Of(double? number) => number is null ? None : new Value(number, null);

        public static Value Of(string text) => new(null, text);

        public string Show(ValueFormat format) => (Number, Text) switch
        {
            (null, null) => Missing,
            (null, { } text) => text,
            ({ } n, _) => format switch
            {
                ValueFormat.Parameter => ParamValue.Of(n).ToString(),
                ValueFormat.Count => n.ToString("0", CultureInfo.InvariantCulture),
                ValueFormat.Duration => Duration(n),
                _ => Format.Metric(n),
            },
        };
    }
}
