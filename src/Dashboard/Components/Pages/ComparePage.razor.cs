using System.Globalization;
using HyperTune.Dashboard.Components.Charts;
using HyperTune.Dashboard.Data;
using HyperTune.Dashboard.Live;
using HyperTune.Dashboard.Trials;
using HyperTune.Shared.Trials;
using Microsoft.AspNetCore.Components;
using Microsoft.JSInterop;

namespace HyperTune.Dashboard.Components.Pages;

/// <summary>
/// Two to six trials of a study side by side (<c>/studies/{id}/compare?trials=3,7&amp;baseline=3</c>): parameters, metrics
/// and how each ran, with deltas to a baseline trial, and their learning curves. The URL holds the choice; epochs arrive live.
/// </summary>
public sealed partial class ComparePage : IDisposable
{
    private readonly Dictionary<long, TrialView> trials = [];
    private readonly List<EpochPoint> epochs = [];
    private readonly HashSet<long> loadedTrialIds = [];
    private readonly List<LiveEvent> early = [];
    private StudyDetail? detail;
    private bool notFound;
    private bool loaded;
    private int loadsUnderWay;
    private IDisposable? subscription;
    private LearningCurves? curves;
    private string metric = "";
    private bool hideIdentical;
    private ComparisonPick pick = new([], null, null);
    private IReadOnlyCollection<long> pickedIds = [];

    /// <summary>The study's id, from the route.</summary>
    [Parameter]
    public long Id { get; set; }

    /// <summary>The compared trials' numbers, comma-separated ("3,7,9"), from the query. Default none.</summary>
    [SupplyParameterFromQuery(Name = "trials")]
    public string? TrialsQuery { get; set; }

    /// <summary>The number of the trial the deltas are taken against, from the query. Default the first compared trial.</summary>
    [SupplyParameterFromQuery(Name = "baseline")]
    public int? BaselineQuery { get; set; }

    [Inject]
    private StudyStore Store { get; set; } = null!;

    [Inject]
    private StudyEvents Events { get; set; } = null!;

    [Inject]
    private NavigationManager Navigation { get; set; } = null!;

    [Inject]
    private TimeProvider Clock { get; set; } = null!;

    // An LR range test reports steps, not epochs: it is not offered for comparison.
    private IEnumerable<TrialView> Comparable => trials.Values.Where(t => t.Kind == TrialKind.Training).OrderBy(t => t.Number);

    private IReadOnlyList<TrialView> Picked => [.. pick.Numbers.Select(n => Comparable.First(t => t.Number == n))];

    private IReadOnlyList<TrialView> Columns
    {
        get
        {
            var picked = Picked;
            return [.. picked.Where(t => t.Number == pick.Baseline), .. picked.Where(t => t.Number != pick.Baseline).OrderBy(t => t.Number)];
        }
    }

    private TrialComparison? Comparison => pick.Numbers.Count is >= TrialComparison.MinTrials and <= TrialComparison.MaxTrials
        ? new TrialComparison(detail!.Definition.Objective, Columns, epochs, Columns[0].Id, Clock.GetUtcNow(),
            [.. detail.Definition.Space.Parameters.Select(p => p.Name)], trials.ToDictionary(t => t.Key, t => t.Value.Number))
        : null;

    private string CurvesKey => string.Join(",", Picked.Select(t => t.Id).Order());

    public void Dispose() => subscription?.Dispose();

    [Inject]
    private IJSRuntime JS { get; set; } = null!;

    protected override void OnAfterRender(bool firstRender)
    {
        // The first render shows progress while the trials load: the browser loads plotly.js meanwhile.
        if (firstRender)
        {
            PlotlyScript.StartLoading(JS);
        }
    }

    protected override async Task OnInitializedAsync()
    {
        // Subscribe before loading so nothing committed in between is missed; replay what came early.
        subscription = Events.Subscribe(OnEvent);
        detail = await Store.GetStudyAsync(Id);
        if (detail is null)
        {
            notFound = true;
            return;
        }

        metric = detail.Definition.Objective.Metric;
        foreach (var t in await Store.ListTrialsAsync(Id))
        {
            trials[t.Id] = t;
        }

        loaded = true;
        foreach (var e in early)
        {
            await ApplyAsync(e);
        }

        early.Clear();
    }

    protected override async Task OnParametersSetAsync()
    {
        if (detail is null)
        {
            return;
        }

        pick = TrialComparison.ParsePick(TrialsQuery, BaselineQuery, [.. Comparable.Select(t => t.Number)]);
        var wanted = Picked.Select(t => t.Id).ToHashSet();
        pickedIds = wanted;
        epochs.RemoveAll(p => !wanted.Contains(p.TrialId));
        loadedTrialIds.IntersectWith(wanted);
        var missing = wanted.Except(loadedTrialIds).ToList();
        if (missing.Count == 0)
        {
            return;
        }

        // The chart is drawn again once every compared trial's epochs are here; epochs arriving meanwhile are kept.
        loadsUnderWay++;
        curves = null;
        loadedTrialIds.UnionWith(missing);
        try
        {
            var stored = await Store.ListEpochsAsync(Id, missing);
            epochs.AddRange([.. stored.Where(p => loadedTrialIds.Contains(p.TrialId) && !Known(p))]);
        }
        finally
        {
            loadsUnderWay--;
        }
    }

    private void OnEvent(LiveEvent e)
    {
        if (e is TrialChanged { Trial.StudyId: var s } && s == Id || e is EpochRecorded { StudyId: var s2 } && s2 == Id)
        {
            _ = InvokeAsync(async () =>
            {
                if (!loaded)
                {
                    early.Add(e);
                    return;
                }

                await ApplyAsync(e);
                StateHasChanged();
            });
        }
    }

    private async Task ApplyAsync(LiveEvent e)
    {
        switch (e)
        {
            case TrialChanged changed:
                // Snapshots from different threads may arrive out of order: an attempt that ended stays ended.
                if (!(trials.TryGetValue(changed.Trial.Id, out var known) && known.Attempt == changed.Trial.Attempt && known.State.IsFinal() && !changed.Trial.State.IsFinal()))
                {
                    trials[changed.Trial.Id] = changed.Trial;
                }

                break;
            case EpochRecorded recorded when loadedTrialIds.Contains(recorded.Point.TrialId) && !Known(recorded.Point):
                epochs.Add(recorded.Point);
                if (loadsUnderWay == 0 && curves is not null)
                {
                    await curves.AppendAsync(recorded.Point);
                }

                break;
        }
    }

    private bool Known(EpochPoint point) =>
        epochs.Any(p => p.TrialId == point.TrialId && p.Attempt == point.Attempt && p.Epoch == point.Epoch);

    private void OnPicked(IReadOnlyCollection<long> ids)
    {
        var numbers = ids.Select(id => trials[id].Number).Distinct().Order().ToList();
        var baseline = pick.Baseline is { } b && numbers.Contains(b) ? b : numbers.Count > 0 ? numbers[0] : (int?)null;
        Go(numbers, baseline);
    }

    private void OnBaseline(long id) => Go(pick.Numbers, trials[id].Number);

    // The URL is the state: changing it sets the query parameters again, without reloading the page.
    private void Go(IEnumerable<int> numbers, int? baseline)
    {
        var query = numbers.Any() ? "?trials=" + string.Join(",", numbers.Order().Select(n => n.ToString(CultureInfo.InvariantCulture))) : "";
        if (baseline is { } b && query.Length > 0)
        {
            query += "&baseline=" + b.ToString(CultureInfo.InvariantCulture);
        }

        Navigation.NavigateTo($"/studies/{Id}/compare{query}", replace: true);
    }

    private string PickLabel(TrialView t) =>
        $"#{t.Number} · {t.State.ToWire()} · {detail!.Definition.Objective.Metric} {Format.Metric(t.BestValue)}";

    private string CountHint() => pick.Numbers.Count switch
    {
        < TrialComparison.MinTrials => $"Pick at least {TrialComparison.MinTrials} trials to compare ({pick.Numbers.Count} picked).",
        TrialComparison.MaxTrials => $"{TrialComparison.MaxTrials} trials picked, the most that fit side by side: remove one to add another.",
        _ => $"{pick.Numbers.Count} trials picked (up to {TrialComparison.MaxTrials}).",
    };

    private static string DeltaClass(DeltaTone tone) => tone switch
    {
        DeltaTone.Better => "mud-success-text",
        DeltaTone.Worse => "mud-error-text",
        DeltaTone.Changed => "mud-warning-text",
        _ => "mud-text-secondary",
    };

    private static string SectionTitle(ComparisonSection section) => section switch
    {
        ComparisonSection.Parameters => "Parameters",
        ComparisonSection.Metrics => "Metrics",
        _ => "Run",
    };
}
