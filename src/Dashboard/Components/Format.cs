using System.Globalization;
using HyperTune.Shared.SearchSpaces;

namespace HyperTune.Dashboard.Components;

/// <summary>How numbers and parameters are written on the pages.</summary>
public static class Format
{
    public static string Metric(double? value) => value switch
    {
        null => "—",
        double v when double.IsNaN(v) => "NaN",
        double v when double.IsPositiveInfinity(v) => "+Inf",
        double v when double.IsNegativeInfinity(v) => "−Inf",
        double v => v.ToString("G5", CultureInfo.InvariantCulture),
    };

    public static string Param(ParamValue value) => value.ToString();
}
