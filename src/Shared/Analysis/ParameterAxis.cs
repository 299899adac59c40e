using System.Globalization;
using HyperTune.Shared.SearchSpaces;

namespace HyperTune.Shared.Analysis;

/// <summary>A labelled tick on a parameter's axis, at <paramref name="Position"/> in axis units.</summary>
public readonly record struct AxisTick(double Position, string Label);

/// <summary>How a parameter's axis is spaced: its values, their log10, −log10(1 − value), or the choices' indices.</summary>
public enum AxisKind
{
    Linear,
    Log,
    ReverseLog,
    Categorical,
}

/// <summary>
/// Where a parameter's values sit on a chart axis, in the parameter's own scale: log10 of the value for log scales,
/// −log10(1 − value) for reverse-log ones, the choice's index for categoricals and the value itself otherwise,
/// with ticks that read as values (0.001, 0.01, 0.99, "adam"), never as the transform.
/// </summary>
public sealed class ParameterAxis
{
    /// <summary>The label of the slot where a conditional parameter's trials sit when its condition does not hold.</summary>
    public const string InactiveLabel = "inactive";

    private ParameterAxis(Parameter parameter, AxisKind kind, double low, double high)
    {
        Parameter = parameter;
        Kind = kind;
        Low = low;
        High = high;
        if (parameter.When is not null)
        {
            InactivePosition = kind == AxisKind.Categorical ? -1 : low - (0.12 * (high > low ? high - low : 1));
        }

        var ticks = kind switch
        {
            AxisKind.Log => LogTicks(low, high).Select(p => new AxisTick(p, Readable(Math.Pow(10, p)))),
            AxisKind.ReverseLog => LogTicks(-high, -low).Select(p => new AxisTick(-p, Readable(1 - Math.Pow(10, p)))).Reverse(),
            AxisKind.Categorical => ((CategoricalParameter)parameter).Choices.Select((c, i) => new AxisTick(i, c.ToString())),
            _ => LinearTicks(low, high),
        };
        Ticks = InactivePosition is { } slot ? [new AxisTick(slot, InactiveLabel), .. ticks] : [.. ticks];
    }

    public Parameter Parameter { get; }

    public string Name => Parameter.Name;

    public AxisKind Kind { get; }

    /// <summary>The lowest position of a value: the search space's lower bound, or a lower value some trial ran with.</summary>
    public double Low { get; }

    /// <summary>The highest position of a value: the search space's upper bound, or a higher value some trial ran with.</summary>
    public double High { get; }

    /// <summary>Below <see cref="Low"/>: where trials sit that ran without this conditional parameter; null when it is unconditional.</summary>
    public double? InactivePosition { get; }

    /// <summary>The lowest position anything is drawn at: the inactive slot, or <see cref="Low"/>.</summary>
    public double Min => InactivePosition ?? Low;

    /// <summary>Readable ticks from <see cref="Min"/> to <see cref="High"/>, the inactive slot first when there is one.</summary>
    public IReadOnlyList<AxisTick> Ticks { get; }

    /// <summary>The axis title: the name, and how it is spaced when not linearly ("lr (log)").</summary>
    public string Title => Kind switch
    {
        AxisKind.Log => $"{Name} (log)",
        AxisKind.ReverseLog => $"{Name} (log of 1 − {Name})",
        _ => Name,
    };

    /// <summary>The axis for <paramref name="parameter"/>, its range widened to every value in <paramref name="observed"/> (a clone may leave the bounds).</summary>
    public static ParameterAxis For(Parameter parameter, IEnumerable<IReadOnlyDictionary<string, ParamValue>> observed)
    {
        var kind = parameter switch
        {
            FloatParameter { Scale: Scale.Log } or IntParameter { Scale: Scale.Log } => AxisKind.Log,
            FloatParameter { Scale: Scale.ReverseLog } => AxisKind.ReverseLog,
            CategoricalParameter => AxisKind.Categorical,
            _ => AxisKind.Linear,
        };
        var (low, high) = parameter switch
        {
            FloatParameter f => (Place(kind, f.Low), Place(kind, f.High)),
            IntParameter i => (Place(kind, i.Low), Place(kind, i.High)),
            CategoricalParameter c => (0.0, c.Choices.Count - 1.0),
            _ => throw new ArgumentOutOfRangeException(nameof(parameter), parameter, $"parameter {parameter.Name} has an unknown kind {parameter.GetType().Name}"),
        };
        if (kind != AxisKind.Categorical)
        {
            foreach (var values in observed)
            {
                if (values.TryGetValue(parameter.Name, out var value) && value.Kind == ParamKind.Number && Place(kind, value.Number) is var p && double.IsFinite(p))
                {
                    (low, high) = (Math.Min(low, p), Math.Max(high, p));
                }
            }
        }

        return new ParameterAxis(parameter, kind, low, high);
    }

    /// <summary>Where <paramref name="value"/> sits on the axis, or NaN when it cannot be placed (not a number, not a choice, ≤ 0 on a log scale).</summary>
    public double Position(ParamValue value)
    {
        if (Parameter is CategoricalParameter c)
        {
            for (var i = 0; i < c.Choices.Count; i++)
            {
                if (c.Choices[i] == value)
                {
                    return i;
                }
            }

            return double.NaN;
        }

        return value.Kind == ParamKind.Number ? Place(Kind, value.Number) : double.NaN;
    }

    /// <summary>Where a trial with <paramref name="values"/> sits: its value, the inactive slot when it ran without this conditional parameter, NaN otherwise.</summary>
    public double Position(IReadOnlyDictionary<string, ParamValue> values) =>
        values.TryGetValue(Name, out var value) ? Position(value) : InactivePosition ?? double.NaN;

    /// <summary>The numeric value at <paramref name="position"/> (the inverse of <see cref="Position(ParamValue)"/>; the index for a categorical).</summary>
    public double ValueAt(double position) => Kind switch
    {
        AxisKind.Log => Math.Pow(10, position),
        AxisKind.ReverseLog => 1 - Math.Pow(10, -position),
        _ => position,
    };

    private static double Place(AxisKind kind, double x) => kind switch
    {
        AxisKind.Log => x > 0 ? Math.Log10(x) : double.NaN,
        AxisKind.ReverseLog => x < 1 ? -Math.Log10(1 - x) : double.NaN,
        _ => x,
    };

    // Ticks at 1, 2, 5 (or every mantissa for short spans) times powers of ten; only powers of ten, thinned, for long spans.
    private static List<double> LogTicks(double low, double high)
    {
        var span = high - low;
        var mantissas = span < 1 ? new[] { 1.0, 2, 3, 4, 5, 6, 7, 8, 9 } : span <= 3 ? [1.0, 2, 5] : [1.0];
        var everyDecades = Math.Max(1, (int)Math.Ceiling(span / 8));
        var ticks = new List<double>();
        for (var decade = (int)Math.Floor(low); decade <= (int)Math.Ceiling(high); decade++)
        {
            if (decade % everyDecades != 0)
            {
                continue;
            }

            foreach (var m in mantissas)
            {
                var p = decade + Math.Log10(m);
                if (p >= low - 1e-9 && p <= high + 1e-9)
                {
                    ticks.Add(p);
                }
            }
        }

        // Too short a span for any nice value inside: label its ends.
        return ticks.Count >= 2 ? ticks : [low, high];
    }

    private static IEnumerable<AxisTick> LinearTicks(double low, double high)
    {
        if (!(high > low))
        {
            return [new AxisTick(low, Readable(low))];
        }

        var raw = (high - low) / 5;
        var magnitude = Math.Pow(10, Math.Floor(Math.Log10(raw)));
        var step = new[] { 1.0, 2, 5, 10 }.Select(m => m * magnitude).First(s => s >= raw * (1 - 1e-9));
        var first = (long)Math.Ceiling((low / step) - 1e-9);
        var last = (long)Math.Floor((high / step) + 1e-9);
        var ticks = new List<AxisTick>();
        for (var k = first; k <= last; k++)
        {
            var v = k * step;
            ticks.Add(new AxisTick(v, Readable(v)));
        }

        return ticks;
    }

    /// <summary>A value as a person writes it on an axis: 0.003, 0.999, 250, 1e-5, 2e+6.</summary>
    public static string Readable(double x)
    {
        if (x == 0 || !double.IsFinite(x))
        {
            return x.ToString(CultureInfo.InvariantCulture);
        }

        var rounded = double.Parse(x.ToString("G4", CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
        var exponent = (int)Math.Floor(Math.Log10(Math.Abs(rounded)));
        if (exponent is >= -4 and < 6)
        {
            return rounded.ToString("0.##########", CultureInfo.InvariantCulture);
        }

        var mantissa = rounded / Math.Pow(10, exponent);
        return $"{Math.Round(mantissa, 3).ToString(CultureInfo.InvariantCulture)}e{(exponent > 0 ? "+" : "")}{exponent}";
    }
}
