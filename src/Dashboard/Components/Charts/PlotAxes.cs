using HyperTune.Shared.Analysis;
using Plotly.Blazor.LayoutLib;

namespace HyperTune.Dashboard.Components.Charts;

/// <summary>
/// Plotly axes for a parameter's values (slices, contours): Plotly's own log axis for log parameters (so hovering reads
/// the value), the parameter's readable ticks for categorical and reverse-log ones, Plotly's ticks for linear ones.
/// </summary>
internal static class PlotAxes
{
    /// <summary>
    /// For every cartesian axis: draw tick labels where they fall. Plotly's default ("hide past div") measures every tick
    /// label again after placing each one, n² forced layouts per redraw: a learning-curve update took 200 ms in Chromium
    /// with 50 epoch ticks on a study page, 30 ms without. Our margins keep labels inside anyway.
    /// </summary>
    public const Plotly.Blazor.LayoutLib.XAxisLib.TickLabelOverflowEnum XOverflow = Plotly.Blazor.LayoutLib.XAxisLib.TickLabelOverflowEnum.Allow;

    /// <summary>
    /// The colour of a trial's marker: translucent through its colour, never through the marker's opacity, which gives
    /// each of a thousand SVG markers a compositing effect of its own that Chromium then sorts into layers on every frame.
    /// </summary>
    public const string TrialMarkerColor = "rgba(21,101,192,0.55)";

    /// <summary>Up to this many (epochs, trial numbers) an integer axis labels every one; past it Plotly spaces its ticks.</summary>
    public const int EveryIntegerUpTo = 20;

    /// <summary>
    /// The tick step of an axis of whole numbers up to <paramref name="largest"/>: 1 while every one fits, else null
    /// (Plotly's own, which would put ticks at 1.5 on a short axis). Each label costs every redraw some layout.
    /// </summary>
    public static object? IntegerTick(long largest) => largest <= EveryIntegerUpTo ? 1 : null;

    /// <summary>The same as <see cref="XOverflow"/> for a y axis.</summary>
    public const Plotly.Blazor.LayoutLib.YAxisLib.TickLabelOverflowEnum YOverflow = Plotly.Blazor.LayoutLib.YAxisLib.TickLabelOverflowEnum.Allow;

    public static XAxis X(ParameterAxis axis, string? anchor = null)
    {
        var (range, values, labels) = Spec(axis);
        return new XAxis
        {
            Title = new Plotly.Blazor.LayoutLib.XAxisLib.Title { Text = axis.Title },
            Type = axis.Kind == AxisKind.Log ? Plotly.Blazor.LayoutLib.XAxisLib.TypeEnum.Log : Plotly.Blazor.LayoutLib.XAxisLib.TypeEnum.Linear,
            Range = range,
            TickVals = values,
            TickText = labels,
            Anchor = anchor,
            ZeroLine = false,
            TickLabelOverflow = XOverflow,
        };
    }

    public static YAxis Y(ParameterAxis axis, string? anchor = null)
    {
        var (range, values, labels) = Spec(axis);
        return new YAxis
        {
            Title = new Plotly.Blazor.LayoutLib.YAxisLib.Title { Text = axis.Title },
            Type = axis.Kind == AxisKind.Log ? Plotly.Blazor.LayoutLib.YAxisLib.TypeEnum.Log : Plotly.Blazor.LayoutLib.YAxisLib.TypeEnum.Linear,
            Range = range,
            TickVals = values,
            TickText = labels,
            Anchor = anchor,
            ZeroLine = false,
            TickLabelOverflow = YOverflow,
        };
    }

    // Plotly's range on a log axis is in log10 units, which is what the positions are.
    private static (IList<object> Range, IList<object>? Values, IList<object>? Labels) Spec(ParameterAxis axis)
    {
        var pad = axis.Kind == AxisKind.Categorical ? 0.5 : 0.04 * (axis.High > axis.Low ? axis.High - axis.Low : 1);
        IList<object> range = [axis.Low - pad, axis.High + pad];
        if (axis.Kind == AxisKind.Linear)
        {
            return (range, null, null);
        }

        var ticks = axis.Ticks.Where(t => t.Position != axis.InactivePosition).ToList();
        return (range,
            [.. ticks.Select(t => (object)(axis.Kind == AxisKind.Log ? axis.ValueAt(t.Position) : t.Position))],
            [.. ticks.Select(t => (object)t.Label)]);
    }
}
