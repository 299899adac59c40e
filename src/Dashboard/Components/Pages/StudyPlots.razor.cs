using HyperTune.Dashboard.Components.Charts;
using HyperTune.Dashboard.Data;
using HyperTune.Shared.Analysis;
using HyperTune.Shared.Studies;
using Microsoft.AspNetCore.Components;

namespace HyperTune.Dashboard.Components.Pages;

/// <summary>
/// The study's analysis plots (best so far, budget, parallel coordinates, slices, contour, importance) over its finished
/// training trials. The parent may render it on every epoch: it rebuilds only when a finished trial appeared or changed,
/// at most once per <see cref="Interval"/>, off the circuit's thread; the importance fit has its own, slower pace.
/// </summary>
public sealed partial class StudyPlots : IDisposable
{
    /// <summary>The least time between two rebuilds of the plots while trials keep finishing.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    /// <summary>After an importance fit, the next waits this many times as long as the fit took, from <see cref="Interval"/> to <see cref="LongestImportanceWait"/>.</summary>
    public const double ImportanceCostFactor = 4;

    /// <summary>The longest wait between two importance fits while trials keep finishing.</summary>
    public static readonly TimeSpan LongestImportanceWait = TimeSpan.FromSeconds(5);

    private const int BestSoFarHeight = 320;
    private const int ContourHeight = 420;
    private const int ParallelHeight = 400;

    // A row's title (subtitle1) and the grid's spacing (measured in Chromium: the drawn grid is within a few pixels).
    private const int RowExtra = 50;

    private readonly PlotThrottle plots;
    private readonly PlotThrottle importanceFits;
    private StudyPlotData data = null!;
    private StudyPlotData? fitted;
    private ImportanceResult? importance;
    private string? importanceProblem;
    private long seen;
    private StudyDefinition? seenDefinition;
    private bool changed;

    public StudyPlots()
    {
        plots = new PlotThrottle(RebuildAsync, Interval);
        importanceFits = new PlotThrottle(FitImportanceAsync, Interval, ImportanceCostFactor, LongestImportanceWait);
    }

    /// <summary>The study: its objective and search space. Required.</summary>
    [Parameter, EditorRequired]
    public StudyDefinition Definition { get; set; } = default!;

    /// <summary>All the study's trials, as the page holds them (only finished training trials with a value are drawn). Required.</summary>
    [Parameter, EditorRequired]
    public IReadOnlyCollection<TrialView> Trials { get; set; } = [];

    /// <summary>
    /// False while the page's first paint is not done: the plots then wait, so the learning curves and the table come
    /// first and the browser draws the analysis plots after them. Default true.
    /// </summary>
    [Parameter]
    public bool Draw { get; set; } = true;

    private bool drawn;

    /// <summary>How many times the plots were rebuilt (tests count it).</summary>
    public int Rebuilds => plots.Runs;

    protected override void OnParametersSet()
    {
        var fingerprint = StudyPlotData.Fingerprint(Trials);
        if (seenDefinition is null)
        {
            // The first view is cheap to build here (no importance): the page opens with its plots.
            data = StudyPlotData.Build(Definition, StudyPlotData.Plottable(Trials));
            (seen, seenDefinition, changed) = (fingerprint, Definition, true);
        }
        else if (fingerprint != seen || !ReferenceEquals(Definition, seenDefinition))
        {
            (seen, seenDefinition) = (fingerprint, Definition);
            plots.Poke();
        }

        // The importance fit (a forest of trees) would take the CPU from the page's first paint: it starts with the plots.
        if (Draw && !drawn)
        {
            (drawn, changed) = (true, true);
            importanceFits.Poke();
        }
    }

    // The page re-renders on every epoch of every trial: pass that on only when the plots have something new.
    protected override bool ShouldRender()
    {
        var render = changed;
        changed = false;
        return render;
    }

    // The grid's height once drawn (on a wide screen, where the charts pair up): the table below keeps its place when
    // the plots replace the progress bar. With too few trials the charts show sentences, and nothing is kept free.
    private int PendingHeight() => data.Trials.Count < SlicePlot.MinTrials || data.Axes.Count == 0
        ? 0
        : BestSoFarHeight + SlicePlot.HeightFor(data.Axes.Count) + ContourHeight + ParallelHeight + (4 * RowExtra);

    private async Task RebuildAsync(CancellationToken cancellation)
    {
        var (definition, trials) = (Definition, StudyPlotData.Plottable(Trials));
        data = await Task.Run(() => StudyPlotData.Build(definition, trials), cancellation);
        changed = true;
        StateHasChanged();
        importanceFits.Poke();
    }

    private async Task FitImportanceAsync(CancellationToken cancellation)
    {
        var current = data;
        if (!drawn || ReferenceEquals(current, fitted))
        {
            return;
        }

        try
        {
            importance = await Task.Run(() => ParameterImportance.Compute(current.Definition.Space, current.Trials, current.Definition.Sampler.Seed), cancellation);
            importanceProblem = null;
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException or FormatException)
        {
            importanceProblem = e.Message;
        }

        fitted = current;
        changed = true;
        StateHasChanged();
    }

    public void Dispose()
    {
        plots.Dispose();
        importanceFits.Dispose();
    }
}
