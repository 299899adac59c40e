using System.Globalization;
using HyperTune.Shared.Analysis;
using Microsoft.AspNetCore.Components;
using Plotly.Blazor;

namespace HyperTune.Dashboard.Components.Charts;

/// <summary>
/// A study plot drawn by Plotly from <see cref="StudyPlotData"/>: it sends Plotly a full redraw or a smaller change only
/// after plotly.js has created the plot, and a change asked for before that becomes one full redraw after it.
/// </summary>
public abstract class PlotChartBase : ComponentBase
{
    private Func<PlotlyChart, Task>? change;
    private bool redraw;
    private bool created;
    private bool flushing;

    /// <summary>The trials to draw. Required.</summary>
    [Parameter, EditorRequired]
    public StudyPlotData Data { get; set; } = default!;

    /// <summary>The plot's height in pixels. Default 360.</summary>
    [Parameter]
    public int Height { get; set; } = 360;

    /// <summary>The data drawn last (compare with <see cref="Data"/> to know what changed).</summary>
    protected StudyPlotData? Drawn { get; set; }

    protected PlotlyChart? Chart { get; set; }

    protected Config Config { get; } = new() { Responsive = true, DisplayLogo = false };

    protected IList<ITrace> Traces { get; set; } = new List<ITrace>();

    protected Plotly.Blazor.Layout Layout { get; set; } = new();

    protected string Style => $"height: {Height}px; width: 100%";

    /// <summary>True when a change can go to the plot as it is (created, no full redraw waiting).</summary>
    protected bool CanChange => created && !redraw && Chart is not null;

    /// <summary>For the chart's AfterRender: the plot exists now.</summary>
    protected void OnCreated()
    {
        created = true;
        _ = InvokeAsync(FlushAsync);
    }

    /// <summary>The plot left the page (an empty state replaced it): the next one starts anew.</summary>
    protected void Forget()
    {
        created = false;
        change = null;
        redraw = false;
        Chart = null;
    }

    /// <summary>Redraws everything from <see cref="Traces"/> and <see cref="Layout"/> after this render.</summary>
    protected void RequestRedraw()
    {
        redraw = true;
        change = null;
    }

    /// <summary>Sends <paramref name="next"/> to the plot after this render, after any change still waiting; only when <see cref="CanChange"/>.</summary>
    protected void RequestChange(Func<PlotlyChart, Task> next)
    {
        var before = change;
        change = before is null ? next : async chart =>
        {
            await before(chart);
            await next(chart);
        };
    }

    protected override Task OnAfterRenderAsync(bool firstRender) => FlushAsync();

    // One flush at a time, looping until nothing waits: a browser slower than the updates (thousands of lines in
    // software WebGL) gets the latest redraw when it is ready instead of a queue of stale ones.
    private async Task FlushAsync()
    {
        if (flushing)
        {
            return;
        }

        flushing = true;
        try
        {
            while (created && Chart is { } chart && (redraw || change is not null))
            {
                if (redraw)
                {
                    redraw = false;
                    change = null;
                    await chart.React();
                }
                else
                {
                    var pending = change!;
                    change = null;
                    await pending(chart);
                }
            }
        }
        finally
        {
            flushing = false;
        }
    }

    /// <summary>A number rounded to 5 significant digits: plenty for a pixel, and a third of the JSON at 10,000 trials.</summary>
    protected static double Compact(double value) =>
        double.Parse(value.ToString("G5", CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);

    /// <summary>The value a chart plots for a parameter's position: the value itself on Plotly's log axis, the position elsewhere.</summary>
    protected static object PlotValue(ParameterAxis axis, double position) =>
        Compact(axis.Kind == AxisKind.Log ? axis.ValueAt(position) : position);
}
