using System.Text.Json;

namespace HyperTune.Shared.Trials;

/// <summary>How a metric value is stored: SQLite cannot keep NaN in a REAL column, so the kind travels beside it.</summary>
public enum MetricKind
{
    Finite = 0,
    NaN = 1,
    PositiveInfinity = 2,
    NegativeInfinity = 3,
}

/// <summary>Splits a double into a storable (kind, finite value) pair and back, keeping NaN and ±Inf; reads one from JSON.</summary>
public static class MetricValue
{
    public static (MetricKind Kind, double? Value) Split(double value) => value switch
    {
        double.NaN => (MetricKind.NaN, null),
        double.PositiveInfinity => (MetricKind.PositiveInfinity, null),
        double.NegativeInfinity => (MetricKind.NegativeInfinity, null),
        _ => (MetricKind.Finite, value),
    };

    public static double Join(MetricKind kind, double? value) => kind switch
    {
        MetricKind.NaN => double.NaN,
        MetricKind.PositiveInfinity => double.PositiveInfinity,
        MetricKind.NegativeInfinity => double.NegativeInfinity,
        _ => value ?? double.NaN,
    };

    /// <summary>A JSON number, or "NaN", "Infinity", "-Infinity" (JSON has no literal for them); null for anything else.</summary>
    public static double? FromJson(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Number => value.GetDouble(),
        JsonValueKind.String => value.GetString() switch
        {
            "NaN" => double.NaN,
            "Infinity" => double.PositiveInfinity,
            "-Infinity" => double.NegativeInfinity,
            _ => null,
        },
        _ => null,
    };
}
