using HyperTune.Shared.Analysis;
using Plotly.Blazor.LayoutLib;

namespace HyperTune.Dashboard.Components.Charts;

/// <summary>
/// Plotly axes for a parameter's values (slices, contours): Plotly's own log axis for log parameters (so hovering reads
/// the value), the parameter's readable ticks for categorical and reverse-log ones, Plotly's ticks for linear ones.
/// </summary>
internal static class PlotAxes
{
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
