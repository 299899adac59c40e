using System.Globalization;
using System.Text;
using HyperTune.Dashboard.Agents;
using Microsoft.AspNetCore.Components;

namespace HyperTune.Dashboard.Components.Charts;

/// <summary>A small line of the recent values of one reading; the newest value sits at the right edge.</summary>
public partial class Sparkline
{
    private string points = "";
    private int pointCount;
    private string lastText = "";

    /// <summary>The values, oldest first; null where the reading was unknown (left out). Required.</summary>
    [Parameter, EditorRequired]
    public IReadOnlyList<double?> Values { get; set; } = [];

    /// <summary>The value drawn at the top edge, e.g. 100 for a percentage. Default null: the largest value shown.</summary>
    [Parameter]
    public double? Max { get; set; }

    /// <summary>How many values the width holds. Default <see cref="AgentRegistry.TelemetrySamplesKept"/>.</summary>
    [Parameter]
    public int Capacity { get; set; } = AgentRegistry.TelemetrySamplesKept;

    /// <summary>Width in pixels. Default 120.</summary>
    [Parameter]
    public int Width { get; set; } = 120;

    /// <summary>Height in pixels. Default 24.</summary>
    [Parameter]
    public int Height { get; set; } = 24;

    /// <summary>Stroke colour. Default the MudBlazor primary colour.</summary>
    [Parameter]
    public string Color { get; set; } = "var(--mud-palette-primary)";

    /// <summary>What the line shows, for screen readers. Default "".</summary>
    [Parameter]
    public string Label { get; set; } = "";

    /// <summary>data-testid of the svg. Default "sparkline".</summary>
    [Parameter]
    public string TestId { get; set; } = "sparkline";

    protected override void OnParametersSet()
    {
        var shown = Values.Skip(Math.Max(0, Values.Count - Capacity)).ToList();
        var known = shown.Where(v => v is not null).Select(v => v!.Value).ToList();
        pointCount = known.Count;
        lastText = shown.Count > 0 && shown[^1] is { } last ? last.ToString("0.##", CultureInfo.InvariantCulture) : "";
        var top = Max ?? (known.Count > 0 ? known.Max() : 1);
        top = top > 0 ? top : 1;
        var step = (double)Width / Math.Max(1, Capacity - 1);
        var line = new StringBuilder();
        for (var i = 0; i < shown.Count; i++)
        {
            if (shown[i] is not { } value)
            {
                continue;
            }

            var x = Width - ((shown.Count - 1 - i) * step);
            var y = Height - 1 - (Math.Clamp(value / top, 0, 1) * (Height - 2));
            line.Append(CultureInfo.InvariantCulture, $"{x:0.#},{y:0.#} ");
        }

        points = line.ToString().TrimEnd();
    }
}
