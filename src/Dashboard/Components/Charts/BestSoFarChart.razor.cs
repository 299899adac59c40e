using HyperTune.Shared.Analysis;
using HyperTune.Shared.Studies;
using Plotly.Blazor;
using Plotly.Blazor.Traces;

namespace HyperTune.Dashboard.Components.Charts;

/// <summary>
/// The optimisation history: every finished trial's objective against its number, and the best so far as a step line
/// (only its improvements are sent). New trials are appended to the plot; the rest is redrawn only when a drawn trial changed.
/// </summary>
public partial class BestSoFarChart
{
    private Scatter best = new();

    protected override void OnParametersSet()
    {
        if (ReferenceEquals(Data, Drawn))
        {
            return;
        }

        // Appended trials keep the axis, unless they take it past the numbers that each get a label.
        var appended = CanChange && PlotAxes.IntegerTick(LastNumber(Data)) == PlotAxes.IntegerTick(LastNumber(Drawn)) ? Data.AppendedSince(Drawn) : null;
        Drawn = Data;
        if (Data.Trials.Count == 0)
        {
            Forget();
        }
        else if (appended is not null)
        {
            // Plotly.Blazor appends to the trial trace's lists itself; the best line is small and replaced whole.
            var x = appended.Select(t => (object)t.Number).ToList();
            var y = appended.Select(t => (object)Compact(t.Value)).ToList();
            var (bx, by) = BestLine(Data.BestSoFar);
            best.X = bx;
            best.Y = by;
            RequestChange(async chart =>
            {
                await chart.ExtendTraces([x], [y], [0]);
                await chart.Update(new { x = new[] { bx }, y = new[] { by } }, null, [1]);
            });
        }
        else
        {
            Rebuild();
            RequestRedraw();
        }
    }

    private void Rebuild()
    {
        var maximize = Data.Objective.Direction == Direction.Maximize;
        var (bx, by) = BestLine(Data.BestSoFar);
        best = new Scatter
        {
            Name = $"best so far ({(maximize ? "highest" : "lowest")})",
            Mode = Plotly.Blazor.Traces.ScatterLib.ModeFlag.Lines,
            Line = new Plotly.Blazor.Traces.ScatterLib.Line { Shape = Plotly.Blazor.Traces.ScatterLib.LineLib.ShapeEnum.Hv, Color = "#e65100", Width = 2 },
            X = bx,
            Y = by,
            HoverTemplate = "best after #%{x}: %{y}<extra></extra>",
        };
        Traces = new List<ITrace>
        {
            // SVG markers for at most the sample's 1,000 trials; the best-so-far line uses every trial.
            new Scatter
            {
                Name = "trial",
                Mode = Plotly.Blazor.Traces.ScatterLib.ModeFlag.Markers,
                Marker = new Plotly.Blazor.Traces.ScatterLib.Marker { Size = 6, Color = PlotAxes.TrialMarkerColor },
                X = Data.Sample.Select(t => (object)t.Number).ToList(),
                Y = Data.Sample.Select(t => (object)Compact(t.Value)).ToList(),
                HoverTemplate = "#%{x}: %{y}<extra></extra>",
            },
            best,
        };
        Layout = new Plotly.Blazor.Layout
        {
            XAxis = [new Plotly.Blazor.LayoutLib.XAxis { TickLabelOverflow = PlotAxes.XOverflow, Title = new Plotly.Blazor.LayoutLib.XAxisLib.Title { Text = "trial #" }, ZeroLine = false, DTick = PlotAxes.IntegerTick(LastNumber(Data)) }],
            YAxis = [new Plotly.Blazor.LayoutLib.YAxis { TickLabelOverflow = PlotAxes.YOverflow, Title = new Plotly.Blazor.LayoutLib.YAxisLib.Title { Text = Data.Objective.Metric } }],
            Margin = new Plotly.Blazor.LayoutLib.Margin { T = 10, R = 10, B = 40, L = 60 },
            Legend = [new Plotly.Blazor.LayoutLib.Legend { Orientation = Plotly.Blazor.LayoutLib.LegendLib.OrientationEnum.H, Y = 1.08m }],
            UiRevision = "keep",
        };
    }

    private static long LastNumber(StudyPlotData? data) => data is null || data.Trials.Count == 0 ? 0 : data.Trials.Max(t => t.Number);

    private static (IList<object> X, IList<object> Y) BestLine(IReadOnlyList<BestPoint> series) =>
        (series.Select(p => (object)p.Number).ToList(), series.Select(p => (object)Compact(p.Value)).ToList());
}
