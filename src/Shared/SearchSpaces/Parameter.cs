using System.Globalization;

namespace HyperTune.Shared.SearchSpaces;

/// <summary>How a numeric parameter is spread between its bounds.</summary>
public enum Scale
{
    Linear,
    Log,

    /// <summary>1 − x on a log scale: fine steps near 1, for momentum and Adam's betas (0.9 … 0.999). Floats only.</summary>
    ReverseLog,
}

/// <summary>A parameter is searched only when another parameter (a parent, itself unconditional) has one of these values.</summary>
public sealed record Condition(string Parent, IReadOnlyList<ParamValue> Values)
{
    public bool HoldsFor(IReadOnlyDictionary<string, ParamValue> values) =>
        values.TryGetValue(Parent, out var v) && Values.Contains(v);

    public override string ToString() => $"{Parent} in [{string.Join(", ", Values)}]";
}

/// <summary>One searchable hyperparameter; every kind maps the unit interval onto its values.</summary>
public abstract record Parameter(string Name)
{
    /// <summary>When set, the parameter exists only in trials where the condition holds.</summary>
    public Condition? When { get; init; }

    /// <summary>" when parent in [...]" for descriptions, or nothing.</summary>
    protected string WhenText => When is null ? "" : $" when {When}";

    /// <summary>Maps u in [0, 1) onto a value, honouring the parameter's scale.</summary>
    public abstract ParamValue FromUnit(double u);

    /// <summary>The inverse of <see cref="FromUnit"/>: where <paramref name="value"/> lies in [0, 1] (the centre of its cell for ints and choices), or NaN when it cannot be this parameter's value.</summary>
    public abstract double ToUnit(ParamValue value);

    /// <summary>Why <paramref name="value"/> cannot be this parameter's value, or null when it can.</summary>
    public abstract string? Reject(ParamValue value);

    /// <summary>A short human description, e.g. "float [0.0001, 0.3] log".</summary>
    public abstract string Describe();

    public static string Format(double x) => x.ToString("G6", CultureInfo.InvariantCulture);
}

/// <summary>A real-valued parameter on a linear or log scale.</summary>
public sealed record FloatParameter(string Name, double Low, double High, Scale Scale) : Parameter(Name)
{
    public override ParamValue FromUnit(double u)
    {
        var x = Scale switch
        {
            Scale.Log => Math.Exp(Math.Log(Low) + (u * (Math.Log(High) - Math.Log(Low)))),
            Scale.ReverseLog => 1 - Math.Exp(Math.Log(1 - Low) + (u * (Math.Log(1 - High) - Math.Log(1 - Low)))),
            _ => Low + (u * (High - Low)),
        };
        return ParamValue.Of(Math.Clamp(x, Low, High));
    }

    public override double ToUnit(ParamValue value)
    {
        if (value.Kind != ParamKind.Number || !double.IsFinite(value.Number))
        {
            return double.NaN;
        }

        var u = Scale switch
        {
            Scale.Log => (Math.Log(Math.Max(value.Number, Low)) - Math.Log(Low)) / (Math.Log(High) - Math.Log(Low)),
            Scale.ReverseLog => (Math.Log(1 - Math.Min(value.Number, High)) - Math.Log(1 - Low)) / (Math.Log(1 - High) - Math.Log(1 - Low)),
            _ => (value.Number - Low) / (High - Low),
        };
        return double.IsFinite(u) ? Math.Clamp(u, 0, 1) : 0.5;
    }

    public override string? Reject(ParamValue value) =>
        value.Kind != ParamKind.Number || !double.IsFinite(value.Number)
            ? $"must be a finite number, got {value}"
            : null;

    public override string Describe() =>
        $"float [{Format(Low)}, {Format(High)}]{Scale switch { Scale.Log => " log", Scale.ReverseLog => " reverse log", _ => "" }}{WhenText}";
}

/// <summary>An integer parameter on a linear or log scale, snapped to multiples of Step from Low.</summary>
public sealed record IntParameter(string Name, long Low, long High, Scale Scale, long Step = 1) : Parameter(Name)
{
    public override ParamValue FromUnit(double u)
    {
        var (lo, hi, last) = Widened();
        var x = Scale == Scale.Log
            ? Math.Exp(Math.Log(lo) + (u * (Math.Log(hi) - Math.Log(lo))))
            : lo + (u * (hi - lo));
        var snapped = Low + (Step * Math.Round((x - Low) / Step, MidpointRounding.AwayFromZero));
        return ParamValue.Of(Math.Clamp(snapped, Low, last));
    }

    public override double ToUnit(ParamValue value)
    {
        if (value.Kind != ParamKind.Number || !double.IsFinite(value.Number))
        {
            return double.NaN;
        }

        var (lo, hi, _) = Widened();
        var u = Scale == Scale.Log
            ? (Math.Log(Math.Max(value.Number, lo)) - Math.Log(lo)) / (Math.Log(hi) - Math.Log(lo))
            : (value.Number - lo) / (hi - lo);
        return Math.Clamp(u, 0, 1);
    }

    // Widen by half a step around the first and last reachable values so the ends are as likely as the others.
    private (double Lo, double Hi, long Last) Widened()
    {
        var last = High - ((High - Low) % Step);
        double lo = Low - (0.5 * Step), hi = last + (0.5 * Step);
        return (Scale == Scale.Log ? Math.Max(lo, 0.5) : lo, hi, last);
    }

    public override string? Reject(ParamValue value) =>
        value.Kind != ParamKind.Number || value.Number != Math.Floor(value.Number)
            ? $"must be an integer, got {value}"
            : null;

    public override string Describe() =>
        $"int [{Low}, {High}]{(Step != 1 ? $" step {Step}" : "")}{(Scale == Scale.Log ? " log" : "")}{WhenText}";
}

/// <summary>A parameter that takes one of a fixed list of choices.</summary>
public sealed record CategoricalParameter(string Name, IReadOnlyList<ParamValue> Choices) : Parameter(Name)
{
    public override ParamValue FromUnit(double u) =>
        Choices[Math.Min((int)(u * Choices.Count), Choices.Count - 1)];

    public override double ToUnit(ParamValue value)
    {
        for (var i = 0; i < Choices.Count; i++)
        {
            if (Choices[i] == value)
            {
                return (i + 0.5) / Choices.Count;
            }
        }

        return double.NaN;
    }

    public override string? Reject(ParamValue value) =>
        value.Kind == Choices[0].Kind ? null : $"must be a {Choices[0].Kind.ToString().ToLowerInvariant()} like its choices, got {value}";

    public override string Describe() => $"one of [{string.Join(", ", Choices)}]{WhenText}";
}

/// <summary>The parameters a sampler may choose, in the order the spec names them.</summary>
public sealed record SearchSpace(IReadOnlyList<Parameter> Parameters)
{
    public Parameter? Find(string name) => Parameters.FirstOrDefault(p => p.Name == name);

    /// <summary>The values without the conditional parameters whose condition does not hold (e.g. momentum under adam).</summary>
    public IReadOnlyDictionary<string, ParamValue> Active(IReadOnlyDictionary<string, ParamValue> values) =>
        values.Where(kv => Find(kv.Key)?.When is not { } when || when.HoldsFor(values)).ToDictionary(kv => kv.Key, kv => kv.Value);

    /// <summary>
    /// The values with every searched parameter present: an inactive conditional parameter gets its range's middle,
    /// so model-based samplers see complete points. Use only as sampler input, never as a trial's parameters.
    /// </summary>
    public IReadOnlyDictionary<string, ParamValue> Completed(IReadOnlyDictionary<string, ParamValue> values)
    {
        var complete = new Dictionary<string, ParamValue>(values);
        foreach (var parameter in Parameters.Where(p => !complete.ContainsKey(p.Name)))
        {
            complete[parameter.Name] = parameter.FromUnit(0.5);
        }

        return complete;
    }
}
