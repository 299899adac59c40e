using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using HyperTune.Dashboard.Data;
using HyperTune.Shared.SearchSpaces;
using HyperTune.Shared.Trials;

namespace HyperTune.Dashboard.Trials;

/// <summary>What a column of the trial table shows.</summary>
public enum TrialColumnKind
{
    Number,
    Stage,
    State,
    Param,
    Epochs,
    LastValue,
    BestValue,

    /// <summary>The last reported value of a metric.</summary>
    Metric,
    Tags,
}

/// <summary>A column of the trial table, by what it shows; <see cref="Name"/> names the parameter or metric.</summary>
public sealed record TrialColumn(TrialColumnKind Kind, string Name = "")
{
    public static readonly TrialColumn Number = new(TrialColumnKind.Number);

    public static readonly TrialColumn Stage = new(TrialColumnKind.Stage);

    public static readonly TrialColumn State = new(TrialColumnKind.State);

    public static readonly TrialColumn Epochs = new(TrialColumnKind.Epochs);

    public static readonly TrialColumn LastValue = new(TrialColumnKind.LastValue);

    public static readonly TrialColumn BestValue = new(TrialColumnKind.BestValue);

    public static readonly TrialColumn Tags = new(TrialColumnKind.Tags);

    public static TrialColumn Param(string name) => new(TrialColumnKind.Param, name);

    public static TrialColumn Metric(string name) => new(TrialColumnKind.Metric, name);

    /// <summary>A stable key for test ids and URLs: "number", "param-lr", "metric-val_loss".</summary>
    public string Key => Kind switch
    {
        TrialColumnKind.Param => "param-" + Name,
        TrialColumnKind.Metric => "metric-" + Name,
        _ => Kind.ToString().ToLowerInvariant(),
    };

    /// <summary>The trial's value in this column as a number; null when it has none (NaN counts as none).</summary>
    public double? NumberOf(TrialView trial)
    {
        double? value = Kind switch
        {
            TrialColumnKind.Number => trial.Number,
            TrialColumnKind.Stage => trial.StageIndex + 1,
            TrialColumnKind.Epochs => trial.EpochCount,
            TrialColumnKind.LastValue => trial.LastValue,
            TrialColumnKind.BestValue => trial.BestValue,
            TrialColumnKind.Param => trial.Params.TryGetValue(Name, out var p) && p.Kind == ParamKind.Number ? p.Number : null,
            TrialColumnKind.Metric => trial.LastMetrics.TryGetValue(Name, out var m) ? m : null,
            _ => null,
        };
        return value is { } v && double.IsNaN(v) ? null : value;
    }

    /// <summary>The trial's value in this column as text (a categorical choice, a state, the tags); null when it has none.</summary>
    public string? TextOf(TrialView trial) => Kind switch
    {
        TrialColumnKind.State => trial.State.ToWire(),
        TrialColumnKind.Param => trial.Params.TryGetValue(Name, out var p) ? p.ToString() : null,
        TrialColumnKind.Tags => trial.Tags.Count == 0 ? null : string.Join(", ", trial.Tags),
        _ => null,
    };
}

/// <summary>Inclusive bounds of a numeric filter; a null bound is open.</summary>
public sealed record NumericRange(double? Min, double? Max)
{
    public bool Contains(double value) => (Min is not { } low || value >= low) && (Max is not { } high || value <= high);
}

/// <summary>The order of the trial table: one column, ascending or descending; trials without a value come last either way.</summary>
public sealed record TrialSort(TrialColumn Column, bool Descending)
{
    /// <summary>Newest first, as the study page opens.</summary>
    public static readonly TrialSort Default = new(TrialColumn.Number, Descending: true);

    /// <summary>The same column the other way round, or this column, ascending, when another is sorted now.</summary>
    public TrialSort Toggle(TrialColumn column) => Column == column ? this with { Descending = !Descending } : new TrialSort(column, Descending: false);

    public int Compare(TrialView a, TrialView b) => Compare(Key.Of(Column, a), Key.Of(Column, b));

    /// <summary>Sorts the trials in place; each trial's value is read once, not once per comparison.</summary>
    public void Sort(List<TrialView> trials)
    {
        var keys = trials.Select(t => Key.Of(Column, t)).ToArray();
        Array.Sort(keys, Compare);
        for (var i = 0; i < keys.Length; i++)
        {
            trials[i] = keys[i].Trial;
        }
    }

    private int Compare(Key a, Key b)
    {
        int order;
        if (a.Number is { } x && b.Number is { } y)
        {
            order = x.CompareTo(y);
        }
        else if (a.Number is not null || b.Number is not null)
        {
            // Missing values go last whatever the direction.
            return a.Number is null ? 1 : -1;
        }
        else if (a.Text is null || b.Text is null)
        {
            return a.Text is null && b.Text is null ? a.Trial.Number.CompareTo(b.Trial.Number) : a.Text is null ? 1 : -1;
        }
        else
        {
            order = string.Compare(a.Text, b.Text, StringComparison.OrdinalIgnoreCase);
        }

        // Ties keep trial-number order, so the table does not shuffle as values change.
        order = order != 0 ? order : a.Trial.Number.CompareTo(b.Trial.Number);
        return Descending ? -order : order;
    }

    private readonly record struct Key(TrialView Trial, double? Number, string? Text)
    {
        public static Key Of(TrialColumn column, TrialView trial) =>
            column.NumberOf(trial) is { } number ? new Key(trial, number, null) : new Key(trial, null, column.TextOf(trial));
    }
}

/// <summary>
/// Which trials the table shows: every condition must hold. Empty sets and maps mean "any". Immutable: a change makes a
/// new filter, so the table filters and sorts once per change, never per render.
/// </summary>
public sealed record TrialFilter
{
    public static readonly TrialFilter None = new();

    /// <summary>The trial is in one of these states.</summary>
    public IReadOnlySet<TrialState> States { get; init; } = new HashSet<TrialState>();

    /// <summary>The trial's value in each column lies in the range (a trial without a value does not).</summary>
    public IReadOnlyDictionary<TrialColumn, NumericRange> Ranges { get; init; } = new Dictionary<TrialColumn, NumericRange>();

    /// <summary>The trial's value of each parameter, as text, is one of the choices.</summary>
    public IReadOnlyDictionary<string, IReadOnlySet<string>> Choices { get; init; } = new Dictionary<string, IReadOnlySet<string>>();

    /// <summary>The trial has every one of these tags (ignoring case).</summary>
    public IReadOnlySet<string> Tags { get; init; } = new HashSet<string>();

    /// <summary>Words that must each appear (ignoring case) in the trial's number, state, parameters, tags, notes, reason or agent.</summary>
    public string Text { get; init; } = "";

    public bool IsEmpty => States.Count == 0 && Ranges.Count == 0 && Choices.Count == 0 && Tags.Count == 0 && string.IsNullOrWhiteSpace(Text);

    public TrialFilter WithRange(TrialColumn column, NumericRange? range)
    {
        var ranges = new Dictionary<TrialColumn, NumericRange>(Ranges);
        if (range is null)
        {
            ranges.Remove(column);
        }
        else
        {
            ranges[column] = range;
        }

        return this with { Ranges = ranges };
    }

    public TrialFilter WithChoices(string param, IReadOnlySet<string>? choices)
    {
        var all = new Dictionary<string, IReadOnlySet<string>>(Choices);
        if (choices is null)
        {
            all.Remove(param);
        }
        else
        {
            all[param] = choices;
        }

        return this with { Choices = all };
    }

    public bool Matches(TrialView trial)
    {
        if (States.Count > 0 && !States.Contains(trial.State))
        {
            return false;
        }

        foreach (var (column, range) in Ranges)
        {
            if (column.NumberOf(trial) is not { } value || !range.Contains(value))
            {
                return false;
            }
        }

        foreach (var (param, choices) in Choices)
        {
            if (choices.Count > 0 && !(trial.Params.TryGetValue(param, out var value) && choices.Contains(value.ToString())))
            {
                return false;
            }
        }

        if (Tags.Count > 0 && !Tags.All(tag => trial.Tags.Contains(tag, StringComparer.OrdinalIgnoreCase)))
        {
            return false;
        }

        return string.IsNullOrWhiteSpace(Text) || MatchesText(trial);
    }

    /// <summary>The trials that match, in the sort's order: computed once per change of trials, filter or sort.</summary>
    public IReadOnlyList<TrialView> Apply(IEnumerable<TrialView> trials, TrialSort sort)
    {
        var kept = trials.Where(Matches).ToList();
        sort.Sort(kept);
        return kept;
    }

    private bool MatchesText(TrialView trial)
    {
        var haystack = Haystacks.GetValue(trial, Haystack);
        return Text.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .All(word => haystack.Contains(word, StringComparison.OrdinalIgnoreCase));
    }

    // A trial snapshot never changes (a change is a new instance), so its searchable text is made once.
    private static readonly ConditionalWeakTable<TrialView, string> Haystacks = [];

    /// <summary>Everything the text filter searches, one field a line so no word spans two fields.</summary>
    private static string Haystack(TrialView trial)
    {
        var text = new StringBuilder();
        text.Append('#').Append(trial.Number.ToString(CultureInfo.InvariantCulture)).Append('\n').Append(trial.State.ToWire()).Append('\n');
        foreach (var (name, value) in trial.Params)
        {
            text.Append(name).Append('=').Append(value.ToString()).Append('\n');
        }

        foreach (var field in trial.Tags.Append(trial.Notes).Append(trial.Reason).Append(trial.AgentId).OfType<string>())
        {
            text.Append(field).Append('\n');
        }

        return text.ToString();
    }
}
