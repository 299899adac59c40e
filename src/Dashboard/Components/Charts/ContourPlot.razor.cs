using HyperTune.Shared.Analysis;
using HyperTune.Shared.Studies;
using Plotly.Blazor;
using PlotTraces = Plotly.Blazor.Traces;

namespace HyperTune.Dashboard.Components.Charts;

/// <summary>
/// A contour of the objective over two parameters chosen with two selectors (the first two searched ones at first):
/// interpolated on a 40×40 grid in each axis' own scale off the circuit's thread, with the trials drawn on top.
/// When trials are only added, the new points are appended and the grid's values replaced; otherwise it is redrawn.
/// </summary>
public partial class ContourPlot
{
    /// <summary>Fewer trials with both parameters than this show a sentence instead of a contour.</summary>
    public const int MinTrials = 3;

    private ContourData? contour;
    private string xName = "";
    private string yName = "";
    private int version;

    protected override async Task OnParametersSetAsync()
    {
        if (ReferenceEquals(Data, Drawn))
        {
            return;
        }

        var names = Data.Axes.Select(a => a.Name).ToList();
        if (!names.Contains(xName) || !names.Contains(yName))
        {
            (xName, yName) = (names.ElementAtOrDefault(0) ?? "", names.ElementAtOrDefault(1) ?? "");
        }

        await RecomputeAsync(CanChange ? Data.AppendedSince(Drawn) : null);
    }

    private Task SelectX(string name)
    {
        xName = name;
        return RecomputeAsync(null);
    }

    private Task SelectY(string name)
    {
        yName = name;
        return RecomputeAsync(null);
    }

    private async Task RecomputeAsync(IReadOnlyList<ScoredTrial>? appended)
    {
        var data = Data;
        Drawn = data;
        var (x, y) = (data.Axes.FirstOrDefault(a => a.Name == xName), data.Axes.FirstOrDefault(a => a.Name == yName));
        if (x is null || y is null || x == y)
        {
            contour = null;
            Forget();
            return;
        }

        // A later call (new data, another selection) wins over one still computing.
        var mine = ++version;
        var built = await Task.Run(() => Contour.Build(x, y, data.Trials));
        if (mine != version)
        {
            return;
        }

        var before = contour;
        contour = built;
        if (built.Points.Count < MinTrials)
        {
            Forget();
        }
        else if (appended is not null && before is not null && before.XAxis.Name == x.Name && before.YAxis.Name == y.Name && CanChange)
        {
            var added = appended.Select(t => t.Number).ToHashSet();
            var points = built.Points.Where(p => added.Contains(p.Number)).ToList();
            var z = Grid(built);
            var surface = (PlotTraces.Contour)Traces[0];
            surface.Z = z;
            RequestChange(async chart =>
            {
                await chart.Update(new { z = new[] { z } }, null, [0]);
                if (points.Count > 0)
                {
                    await chart.ExtendTraces([points.Select(p => PlotValue(x, p.X))], [points.Select(p => PlotValue(y, p.Y))], [1]);
                }
            });
        }
        else
        {
            Rebuild(built);
            RequestRedraw();
        }

        StateHasChanged();
    }

    private void Rebuild(ContourData built)
    {
        var metric = Data.Objective.Metric;

        // The surface is interpolated from every trial; the markers over it are the sample's.
        var sampled = Data.Sample.Select(t => t.Number).ToHashSet();
        var markers = built.Points.Where(p => sampled.Contains(p.Number)).ToList();
        Traces = new List<ITrace>
        {
            new PlotTraces.Contour
            {
                Name = metric,
                X = built.GridX.Select(p => PlotValue(built.XAxis, p)).ToList(),
                Y = built.GridY.Select(p => PlotValue(built.YAxis, p)).ToList(),
                Z = Grid(built),
                ColorScale = "Viridis",
                ReverseScale = Data.Objective.Direction == Direction.Minimize,
                ColorBar = new Plotly.Blazor.Traces.ContourLib.ColorBar
                {
                    Title = new Plotly.Blazor.Traces.ContourLib.ColorBarLib.Title { Text = metric },
                    Thickness = 12,
                },
                HoverTemplate = $"{built.XAxis.Name} %{{x}}<br>{built.YAxis.Name} %{{y}}<br>{metric} ≈ %{{z}}<extra>interpolated</extra>",
            },
            new PlotTraces.Scatter
            {
                Name = "trial",
                Mode = Plotly.Blazor.Traces.ScatterLib.ModeFlag.Markers,
                // Thousands of trials would hide the surface under full-size markers.
                Marker = new Plotly.Blazor.Traces.ScatterLib.Marker
                {
                    Size = markers.Count > 500 ? 3 : 6,
                    // Translucent through the colour: an opacity gives each marker a compositing effect of its own (see PlotAxes.TrialMarkerColor).
                    Color = markers.Count > 500 ? "rgba(255,255,255,0.45)" : "rgba(255,255,255,0.9)",
                    Line = new Plotly.Blazor.Traces.ScatterLib.MarkerLib.Line { Color = "#212121", Width = markers.Count > 500 ? 0 : 1 },
                },
                X = markers.Select(p => PlotValue(built.XAxis, p.X)).ToList(),
                Y = markers.Select(p => PlotValue(built.YAxis, p.Y)).ToList(),
                HoverTemplate = $"{built.XAxis.Name} %{{x}}<br>{built.YAxis.Name} %{{y}}<extra>trial</extra>",
                ShowLegend = false,
            },
        };
        Layout = new Plotly.Blazor.Layout
        {
            XAxis = [PlotAxes.X(built.XAxis)],
            YAxis = [PlotAxes.Y(built.YAxis)],
            Margin = new Plotly.Blazor.LayoutLib.Margin { T = 10, R = 10, B = 50, L = 70 },
            UiRevision = $"{built.XAxis.Name}/{built.YAxis.Name}",
        };
    }

    private static List<object> Grid(ContourData built) =>
        [.. built.Z.Select(row => (object)row.Select(v => Compact(v)).ToArray())];
}
