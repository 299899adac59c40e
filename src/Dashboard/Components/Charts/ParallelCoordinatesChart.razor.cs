using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using HyperTune.Shared.Analysis;
using HyperTune.Shared.Studies;
using Plotly.Blazor;
using Plotly.Blazor.Interop;
using Plotly.Blazor.Traces;
using Plotly.Blazor.Traces.ParCoordsLib;

namespace HyperTune.Dashboard.Components.Charts;

/// <summary>
/// Parallel coordinates (Plotly parcoords): one axis per searched parameter, log ones in log10 with ticks that read as
/// values, categorical ones labelled by their choices, conditional ones with an "inactive" slot for the trials that ran
/// without them, then the objective, which also colours the lines (the better end alike for either direction).
/// A range dragged on an axis (a constraint range) is kept, by axis name, across live redraws.
/// </summary>
public partial class ParallelCoordinatesChart
{
    /// <summary>Fewer trials than this show a sentence instead of a plot.</summary>
    public const int MinTrials = 2;

    private readonly Dictionary<string, IList<object>> constraints = [];
    private int drawnCount;

    /// <summary>
    /// True to draw the plot only once it scrolls into view: Plotly draws parallel coordinates with WebGL, whose set-up
    /// takes seconds where the browser has no GPU (software rendering), and would hold up the page as it opens. Default false.
    /// </summary>
    [Microsoft.AspNetCore.Components.Parameter]
    public bool WhenVisible { get; set; }

    /// <summary>The ranges dragged on the axes, by axis name (a parameter's name or the objective's metric).</summary>
    public IReadOnlyDictionary<string, IList<object>> Constraints => constraints;

    protected override void OnParametersSet()
    {
        if (ReferenceEquals(Data, Drawn))
        {
            return;
        }

        Drawn = Data;
        if (Data.Trials.Count < MinTrials)
        {
            Forget();
            drawnCount = Data.Trials.Count;
            return;
        }

        Rebuild();
        RequestRedraw();
    }

    private void OnPlotCreated()
    {
        OnCreated();
        _ = InvokeAsync(async () =>
        {
            if (Chart is not null)
            {
                await Chart.SubscribeRestyleEvent();
            }
        });
    }

    private void Rebuild()
    {
        // A trial some axis cannot place (a value outside its choices) is left out rather than drawn off the axis.
        var rows = Data.Sample
            .Select(t => (Trial: t, Positions: Data.Axes.Select(a => a.Position(t.Params)).ToArray()))
            .Where(r => r.Positions.All(double.IsFinite))
            .ToList();
        drawnCount = rows.Count;
        var dimensions = Data.Axes.Select((axis, i) => new Dimension
        {
            Name = axis.Name,
            Label = axis.Title,
            Values = rows.Select(r => (object)Compact(r.Positions[i])).ToList(),
            Range = [axis.Min, axis.High],
            TickVals = axis.Ticks.Select(t => (object)t.Position).ToList(),
            TickText = axis.Ticks.Select(t => (object)t.Label).ToList(),
            ConstraintRange = constraints.GetValueOrDefault(axis.Name),
        }).ToList();
        var metric = Data.Objective.Metric;
        var values = rows.Select(r => (object)Compact(r.Trial.Value)).ToList();
        dimensions.Add(new Dimension { Name = metric, Label = metric, Values = values, ConstraintRange = constraints.GetValueOrDefault(metric) });
        Traces = new List<ITrace>
        {
            new ParCoords
            {
                Dimensions = dimensions,
                Line = new Line
                {
                    ColorArray = values,
                    ColorScale = "Viridis",
                    ReverseScale = Data.Objective.Direction == Direction.Minimize,
                    ShowScale = true,
                    ColorBar = new Plotly.Blazor.Traces.ParCoordsLib.LineLib.ColorBar
                    {
                        Title = new Plotly.Blazor.Traces.ParCoordsLib.LineLib.ColorBarLib.Title { Text = metric },
                        Thickness = 12,
                    },
                },
                UiRevision = "keep",
            },
        };
        Layout = new Plotly.Blazor.Layout { Margin = new Plotly.Blazor.LayoutLib.Margin { T = 60, R = 40, B = 30, L = 60 } };
    }

    /// <summary>Keeps the ranges a person drags on the axes (plotly reports them as a restyle of dimensions[i].constraintrange).</summary>
    public void OnRestyle(RestyleEventData restyle)
    {
        if (Drawn is null)
        {
            return;
        }

        var names = Drawn.Axes.Select(a => a.Name).Append(Drawn.Objective.Metric).ToList();
        foreach (var (key, value) in restyle.Changes ?? new Dictionary<string, JsonElement>())
        {
            var match = ConstraintKey().Match(key);
            if (match.Success && int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture) is var index && index < names.Count)
            {
                Remember(names[index], value);
            }
        }
    }

    // Plotly wraps a restyle value in an array with one entry per trace: [[lo, hi]], [[[lo, hi], [lo2, hi2]]] or [null].
    private void Remember(string name, JsonElement value)
    {
        var range = value.ValueKind == JsonValueKind.Array && value.GetArrayLength() == 1 ? value[0] : value;
        if (range.ValueKind != JsonValueKind.Array || range.GetArrayLength() == 0)
        {
            constraints.Remove(name);
            return;
        }

        constraints[name] = range[0].ValueKind == JsonValueKind.Array
            ? [.. range.EnumerateArray().Select(r => (object)r.EnumerateArray().Select(v => v.GetDouble()).ToArray())]
            : [.. range.EnumerateArray().Select(v => (object)v.GetDouble())];
    }

    [GeneratedRegex(@"^dimensions\[(\d+)\]\.constraintrange$")]
    private static partial Regex ConstraintKey();
}
