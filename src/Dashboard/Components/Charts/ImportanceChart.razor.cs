using System.Globalization;
using HyperTune.Shared.Analysis;
using Microsoft.AspNetCore.Components;
using Plotly.Blazor;
using Plotly.Blazor.Traces;

namespace HyperTune.Dashboard.Components.Charts;

/// <summary>
/// Parameter importance (fANOVA over a random forest, see <see cref="ParameterImportance"/>) as horizontal bars, the
/// most important on top; redrawn when a new result arrives (the page computes it off the circuit's thread).
/// </summary>
public partial class ImportanceChart
{
    private ImportanceResult? drawnResult;

    /// <summary>The latest importance, or null before the first one is computed. Default null.</summary>
    [Parameter]
    public ImportanceResult? Result { get; set; }

    /// <summary>Why the last computation failed, or null. Default null.</summary>
    [Parameter]
    public string? Problem { get; set; }

    private string BarsStyle => $"height: {60 + (Data.Axes.Count * 32)}px; width: 100%";

    private string Caption => Result is null ? "" : Result.TrialsUsed == Result.TrialsAvailable
        ? $"Share of the variation each parameter explains alone (fANOVA over a {ParameterImportance.Trees}-tree random forest of {Result.TrialsUsed} finished trials)."
        : $"Share of the variation each parameter explains alone (fANOVA over a {ParameterImportance.Trees}-tree random forest of a seeded sample of {Result.TrialsUsed} of the {Result.TrialsAvailable} finished trials).";

    protected override void OnParametersSet()
    {
        if (ReferenceEquals(Result, drawnResult))
        {
            return;
        }

        drawnResult = Result;
        if (Result is null || Result.Parameters.Count == 0 || Result.IsFlat)
        {
            Forget();
            return;
        }

        // Plotly stacks horizontal bars bottom-up: reverse so the most important is on top.
        var shares = Result.Parameters.Reverse().ToList();
        Traces = new List<ITrace>
        {
            new Bar
            {
                Orientation = Plotly.Blazor.Traces.BarLib.OrientationEnum.H,
                X = shares.Select(s => (object)Compact(s.Importance)).ToList(),
                Y = shares.Select(s => (object)s.Name).ToList(),
                TextArray = shares.Select(s => s.Importance.ToString("P0", CultureInfo.InvariantCulture)).ToList(),
                TextPosition = Plotly.Blazor.Traces.BarLib.TextPositionEnum.Outside,
                Marker = new Plotly.Blazor.Traces.BarLib.Marker { Color = "#1565c0" },
                HoverTemplate = "%{y}: %{x:.1%}<extra></extra>",
            },
        };
        Layout = new Plotly.Blazor.Layout
        {
            XAxis = [new Plotly.Blazor.LayoutLib.XAxis { TickLabelOverflow = PlotAxes.XOverflow, Range = [0, 1.15], TickFormat = ".0%", ZeroLine = false }],
            YAxis = [new Plotly.Blazor.LayoutLib.YAxis { TickLabelOverflow = PlotAxes.YOverflow, AutoMargin = Plotly.Blazor.LayoutLib.YAxisLib.AutoMarginFlag.True }],
            Margin = new Plotly.Blazor.LayoutLib.Margin { T = 10, R = 10, B = 30, L = 10 },
        };
        RequestRedraw();
    }
}
