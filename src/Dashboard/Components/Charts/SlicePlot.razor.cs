using HyperTune.Shared.Analysis;
using Plotly.Blazor;
using Plotly.Blazor.Traces;

namespace HyperTune.Dashboard.Components.Charts;

/// <summary>
/// Slice plots: the objective against each searched parameter in a grid of small plots, the x axis in the parameter's
/// own scale (Plotly's log axis for log parameters). A trial that ran without a conditional parameter is left out of its
/// plot. New trials are appended to the plots; the rest is redrawn only when a drawn trial or an axis changed.
/// </summary>
public partial class SlicePlot
{
    /// <summary>Fewer trials than this show a sentence instead of plots.</summary>
    public const int MinTrials = 2;

    /// <summary>Small plots per row.</summary>
    public const int Columns = 4;

    /// <summary>Height of one row of small plots, in pixels.</summary>
    public const int RowHeight = 260;

    /// <summary>The height, in pixels, of the slice plots of <paramref name="parameters"/> searched parameters.</summary>
    public static int HeightFor(int parameters) => (RowsFor(parameters) * RowHeight) + 40;

    private static int RowsFor(int parameters) => Math.Max(1, (parameters + Columns - 1) / Columns);

    private int Rows => RowsFor(Data.Axes.Count);

    private string SliceStyle => $"height: {HeightFor(Data.Axes.Count)}px; width: 100%";

    protected override void OnParametersSet()
    {
        if (ReferenceEquals(Data, Drawn))
        {
            return;
        }

        var appended = CanChange ? Data.AppendedSince(Drawn) : null;
        Drawn = Data;
        if (Data.Axes.Count == 0 || Data.Trials.Count < MinTrials)
        {
            Forget();
        }
        else if (appended is not null)
        {
            var indices = new List<int>();
            var xs = new List<IEnumerable<object>>();
            var ys = new List<IEnumerable<object>>();
            for (var i = 0; i < Data.Axes.Count; i++)
            {
                var (x, y) = Points(Data.Axes[i], appended);
                if (x.Count > 0)
                {
                    indices.Add(i);
                    xs.Add(x);
                    ys.Add(y);
                }
            }

            if (indices.Count > 0)
            {
                RequestChange(chart => chart.ExtendTraces(xs, ys, indices));
            }
        }
        else
        {
            Rebuild();
            RequestRedraw();
        }
    }

    private void Rebuild()
    {
        var columns = Math.Min(Columns, Data.Axes.Count);
        var layout = new Plotly.Blazor.Layout
        {
            Grid = new Plotly.Blazor.LayoutLib.Grid
            {
                Rows = Rows,
                Columns = columns,
                Pattern = Plotly.Blazor.LayoutLib.GridLib.PatternEnum.Independent,
                XGap = 0.08m,
                YGap = 0.35m,
            },
            XAxis = [],
            YAxis = [],
            ShowLegend = false,
            Margin = new Plotly.Blazor.LayoutLib.Margin { T = 10, R = 10, B = 50, L = 60 },
            UiRevision = "keep",
        };
        var traces = new List<ITrace>();
        for (var i = 0; i < Data.Axes.Count; i++)
        {
            var axis = Data.Axes[i];
            var (x, y) = Points(axis, Data.Sample);
            var suffix = i == 0 ? "" : (i + 1).ToString(System.Globalization.CultureInfo.InvariantCulture);
            // SVG, not WebGL: a sample of at most 1,000 markers draws quickly without a GPU, and each WebGL plot costs
            // seconds of shader set-up in a browser that renders WebGL in software.
            traces.Add(new Scatter
            {
                Name = axis.Name,
                Mode = Plotly.Blazor.Traces.ScatterLib.ModeFlag.Markers,
                Marker = new Plotly.Blazor.Traces.ScatterLib.Marker { Size = 5, Color = PlotAxes.TrialMarkerColor },
                X = x,
                Y = y,
                XAxis = "x" + suffix,
                YAxis = "y" + suffix,
                HoverTemplate = $"{axis.Name} %{{x}}<br>{Data.Objective.Metric} %{{y}}<extra></extra>",
            });
            layout.XAxis.Add(PlotAxes.X(axis));
            layout.YAxis.Add(new Plotly.Blazor.LayoutLib.YAxis
            {
                TickLabelOverflow = PlotAxes.YOverflow,
                Title = new Plotly.Blazor.LayoutLib.YAxisLib.Title { Text = i % columns == 0 ? Data.Objective.Metric : null },
            });
        }

        Traces = traces;
        Layout = layout;
    }

    private static (List<object> X, List<object> Y) Points(ParameterAxis axis, IEnumerable<ScoredTrial> trials)
    {
        var placed = trials
            .Where(t => t.Params.ContainsKey(axis.Name))
            .Select(t => (Position: axis.Position(t.Params), t.Value))
            .Where(p => double.IsFinite(p.Position))
            .ToList();
        return ([.. placed.Select(p => PlotValue(axis, p.Position))], [.. placed.Select(p => (object)Compact(p.Value))]);
    }
}
