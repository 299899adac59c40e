using System.Globalization;
using HyperTune.Dashboard.Components.Dialogs;
using HyperTune.Dashboard.Data;
using HyperTune.Dashboard.Security;
using HyperTune.Dashboard.Trials;
using HyperTune.Shared.SearchSpaces;
using HyperTune.Shared.Studies;
using HyperTune.Shared.Trials;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Web;
using MudBlazor;

namespace HyperTune.Dashboard.Components.Pages;

/// <summary>
/// The trial table of a study page. Filtering and sorting run once per change of the trials, the filter or the sort
/// (never per render), and past <see cref="VirtualizeFrom"/> rows only the rows in view are rendered, so 10,000 trials
/// stay quick. Tags and notes are saved through <see cref="TrialAnnotations"/>, which publishes them to every open page.
/// </summary>
public partial class TrialTable
{
    /// <summary>From this many rows on, the table scrolls inside a fixed height and renders only the rows in view.</summary>
    public const int VirtualizeFrom = 50;

    private static readonly string[] Exports = ["trials.csv", "trials.json", "epochs.csv", "epochs.json"];

    private TrialView[] seen = [];
    private StudyDefinition? seenDefinition;
    private IReadOnlyList<TrialView> rows = [];
    private IReadOnlyList<long> rowIds = [];
    private int total;
    private Dictionary<long, TrialView> byId = [];
    private List<TrialColumn> paramColumns = [];
    private List<TrialColumn> metricColumns = [];
    private HashSet<string> categorical = [];
    private List<string> allTags = [];
    private List<(TrialState State, int Count)> stateCounts = [];
    private TrialFilter filter = TrialFilter.None;
    private TrialSort sort = TrialSort.Default;
    private readonly List<TrialColumn> openFilters = [];
    private readonly HashSet<(TrialColumn Column, bool Min)> bad = [];
    private readonly HashSet<long> selected = [];
    private bool allShownSelected;
    private long? tagging;
    private string? newTag;

    [Inject]
    private TrialAnnotations Annotations { get; set; } = null!;

    [Inject]
    private IDialogService Dialogs { get; set; } = null!;

    [Inject]
    private ISnackbar Snackbar { get; set; } = null!;

    /// <summary>The study the trials belong to (for the export links). Required.</summary>
    [Parameter, EditorRequired]
    public long StudyId { get; set; }

    /// <summary>The study's definition: its objective and searched parameters. Required.</summary>
    [Parameter, EditorRequired]
    public StudyDefinition Definition { get; set; } = null!;

    /// <summary>The study's trials, in any order; a changed trial is a new <see cref="TrialView"/> instance. Required.</summary>
    [Parameter, EditorRequired]
    public IReadOnlyCollection<TrialView> Trials { get; set; } = [];

    /// <summary>The study's stages; the stage column shows when there is more than one. Default none.</summary>
    [Parameter]
    public IReadOnlyList<StageView> Stages { get; set; } = [];

    /// <summary>The controls of a row (Stop, Clone, ...), rendered in its last cell. Default none.</summary>
    [Parameter]
    public RenderFragment<TrialView>? Actions { get; set; }

    /// <summary>Who is signed in: only operators and admins can tag. Cascaded by the layout.</summary>
    [CascadingParameter]
    public SignedInUser SignedIn { get; set; } = SignedInUser.Nobody;

    private string? WhyNotTag => SignedIn.WhyNot("tag trials");

    /// <summary>Called with the ids of the selected trials, in id order, whenever the selection changes (for Compare). Default none.</summary>
    [Parameter]
    public EventCallback<IReadOnlyList<long>> SelectionChanged { get; set; }

    /// <summary>The trials shown, filtered and sorted (for tests and callers that act on what a person sees).</summary>
    public IReadOnlyList<TrialView> Shown => rows;

    protected override void OnParametersSet()
    {
        // The parent re-renders on every live event; only a new trial instance (or a new definition) means new data.
        if (ReferenceEquals(seenDefinition, Definition) && Trials.Count == seen.Length && Trials.Select((t, i) => ReferenceEquals(t, seen[i])).All(same => same))
        {
            return;
        }

        seen = [.. Trials];
        seenDefinition = Definition;
        Describe();
        Refilter();
    }

    /// <summary>The columns, tags and state counts that the trials call for.</summary>
    private void Describe()
    {
        total = seen.Length;
        byId = seen.ToDictionary(t => t.Id);
        var searched = Definition.Space.Parameters.Select(p => p.Name).ToList();

        // The searched parameters, then any other that differs between trials (a clone's edit); constant ones are in the spec.
        var others = seen.SelectMany(t => t.Params.Keys).Distinct().Where(k => !searched.Contains(k))
            .Where(k => seen.Select(t => t.Params.GetValueOrDefault(k)).Distinct().Skip(1).Any())
            .Order(StringComparer.Ordinal);
        paramColumns = [.. searched.Concat(others).Select(TrialColumn.Param)];
        categorical = [.. paramColumns.Select(c => c.Name).Where(name => Definition.Space.Find(name) is CategoricalParameter
            || seen.Any(t => t.Params.TryGetValue(name, out var v) && v.Kind != ParamKind.Number))];
        metricColumns = [.. seen.SelectMany(t => t.LastMetrics.Keys).Distinct().Where(m => m != Definition.Objective.Metric)
            .Order(StringComparer.Ordinal).Select(TrialColumn.Metric)];
        allTags = [.. seen.SelectMany(t => t.Tags).Distinct(StringComparer.OrdinalIgnoreCase).Order(StringComparer.OrdinalIgnoreCase)];
        stateCounts = [.. seen.GroupBy(t => t.State).OrderBy(g => g.Key).Select(g => (g.Key, g.Count()))];
    }

    private void Refilter()
    {
        rows = filter.Apply(seen, sort);
        rowIds = [.. rows.Select(t => t.Id)];
        allShownSelected = rows.Count > 0 && rows.All(t => selected.Contains(t.Id));
    }

    private string? TableHeight => rows.Count >= VirtualizeFrom ? "70vh" : null;

    private string Label(TrialColumn column) => column.Kind switch
    {
        TrialColumnKind.Param => column.Name,
        TrialColumnKind.Metric => paramColumns.Any(p => p.Name == column.Name) ? $"{column.Name} (metric)" : column.Name,
        TrialColumnKind.Epochs => "epochs done",
        TrialColumnKind.LastValue => $"last {Definition.Objective.Metric}",
        TrialColumnKind.BestValue => $"best {Definition.Objective.Metric}",
        _ => column.Key,
    };

    private bool IsCategorical(TrialColumn column) => column.Kind == TrialColumnKind.Param && categorical.Contains(column.Name);

    private IEnumerable<TrialColumn> FilterableColumns() =>
        paramColumns.Concat([TrialColumn.Epochs, TrialColumn.LastValue, TrialColumn.BestValue]).Concat(metricColumns).Where(c => !openFilters.Contains(c));

    private IEnumerable<string> ChoicesOf(TrialColumn column) =>
        Definition.Space.Find(column.Name) is CategoricalParameter c
            ? c.Choices.Select(v => v.ToString())
            : seen.Select(t => t.Params.TryGetValue(column.Name, out var v) ? v.ToString() : null).OfType<string>().Distinct().Order(StringComparer.Ordinal);

    private void SortBy(TrialColumn column)
    {
        sort = sort.Toggle(column);
        Refilter();
    }

    private void SetText(string? text)
    {
        filter = filter with { Text = text ?? "" };
        Refilter();
    }

    private void SetStates(IReadOnlyCollection<TrialState>? states)
    {
        filter = filter with { States = new HashSet<TrialState>(states ?? []) };
        Refilter();
    }

    private void SetTags(IEnumerable<string>? tags)
    {
        filter = filter with { Tags = new HashSet<string>(tags ?? [], StringComparer.OrdinalIgnoreCase) };
        Refilter();
    }

    private void FilterByTag(string tag) => SetTags(filter.Tags.Append(tag));

    private void SetChoices(TrialColumn column, IEnumerable<string>? choices)
    {
        var set = new HashSet<string>(choices ?? [], StringComparer.Ordinal);
        filter = filter.WithChoices(column.Name, set.Count == 0 ? null : set);
        Refilter();
    }

    private string? BoundText(TrialColumn column, bool min) =>
        filter.Ranges.GetValueOrDefault(column) is { } range && (min ? range.Min : range.Max) is { } bound ? bound.ToString(CultureInfo.InvariantCulture) : null;

    /// <summary>Sets one bound of a range filter from what a person typed (invariant numbers, 1e-3 too); blank opens it.</summary>
    private void SetBound(TrialColumn column, string? text, bool min)
    {
        double? bound = null;
        if (!string.IsNullOrWhiteSpace(text))
        {
            if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var parsed) || double.IsNaN(parsed))
            {
                bad.Add((column, min));
                return;
            }

            bound = parsed;
        }

        bad.Remove((column, min));
        var range = filter.Ranges.GetValueOrDefault(column) ?? new NumericRange(null, null);
        range = min ? range with { Min = bound } : range with { Max = bound };
        filter = filter.WithRange(column, range is { Min: null, Max: null } ? null : range);
        Refilter();
    }

    private void AddFilter(TrialColumn column) => openFilters.Add(column);

    private void RemoveFilter(TrialColumn column)
    {
        openFilters.Remove(column);
        bad.RemoveWhere(b => b.Column == column);
        filter = column.Kind == TrialColumnKind.Param && categorical.Contains(column.Name)
            ? filter.WithChoices(column.Name, null)
            : filter.WithRange(column, null);
        Refilter();
    }

    private void ClearFilters()
    {
        openFilters.Clear();
        bad.Clear();
        filter = TrialFilter.None;
        Refilter();
    }

    private Task SelectAsync(TrialView trial, bool on)
    {
        if (on)
        {
            selected.Add(trial.Id);
        }
        else
        {
            selected.Remove(trial.Id);
        }

        return SelectionDoneAsync();
    }

    private Task SelectAllShownAsync(bool on)
    {
        foreach (var t in rows)
        {
            if (on)
            {
                selected.Add(t.Id);
            }
            else
            {
                selected.Remove(t.Id);
            }
        }

        return SelectionDoneAsync();
    }

    private Task ClearSelectionAsync()
    {
        selected.Clear();
        return SelectionDoneAsync();
    }

    private Task SelectionDoneAsync()
    {
        allShownSelected = rows.Count > 0 && rows.All(t => selected.Contains(t.Id));
        return SelectionChanged.InvokeAsync([.. selected.Order()]);
    }

    private void StartTagging(TrialView trial)
    {
        tagging = trial.Id;
        newTag = "";
    }

    private async Task TagKeyAsync(KeyboardEventArgs e, TrialView trial)
    {
        if (e.Key == "Enter")
        {
            await AddTagAsync(trial);
        }
        else if (e.Key == "Escape")
        {
            tagging = null;
        }
    }

    private async Task AddTagAsync(TrialView trial)
    {
        if (string.IsNullOrWhiteSpace(newTag))
        {
            tagging = null;
            return;
        }

        if (Report(await Annotations.AddTagAsync(trial.Id, newTag)))
        {
            tagging = null;
            newTag = null;
        }
    }

    private async Task RemoveTagAsync(TrialView trial, string tag) => Report(await Annotations.RemoveTagAsync(trial.Id, tag));

    /// <summary>Shows why a change was refused; the accepted change reaches the table as a live event.</summary>
    private bool Report(ControlResult result)
    {
        if (TrialAnnotations.Problem(result) is { } problem)
        {
            Snackbar.Add(problem, Severity.Warning);
            return false;
        }

        return true;
    }

    private async Task ShowNotesAsync(TrialView trial)
    {
        var parameters = new DialogParameters<TrialNotesDialog> { { d => d.Trial, trial } };
        await Dialogs.ShowAsync<TrialNotesDialog>($"Notes on trial #{trial.Number}", parameters,
            new DialogOptions { MaxWidth = MaxWidth.Medium, FullWidth = true, CloseButton = true });
    }
}
