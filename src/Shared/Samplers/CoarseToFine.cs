using HyperTune.Shared.SearchSpaces;
using HyperTune.Shared.Studies;

namespace HyperTune.Shared.Samplers;

/// <summary>
/// Proposes the next stage's space of a coarse-to-fine search: in each parameter's own scale (log for a log-scaled lr),
/// a window <see cref="Shrink"/> times as wide as the current range, centred on the incumbent (the best trial) and slid
/// back inside the current range where it would stick out. Categoricals keep the choices the top trials used.
/// </summary>
/// <remarks>
/// The window does not try to hold the other top trials: on a function with several good basins (Branin has three)
/// they span the whole range, so such a window never narrowed and the later stages drew what random search draws.
/// A fixed factor commits to the incumbent's basin. Of 0.3–0.5, 0.4 had the lowest worst ratio to random search's
/// median regret at 100 trials across Branin, Hartmann6 and Branin6D (stages of 50/25/25, 200 simulated seeds): 0.5
/// narrows too little for Branin, 0.3 loses Hartmann6's best basin too often. docs/benchmarks.md has the bench's figures.
/// </remarks>
public static class CoarseToFine
{
    /// <summary>The share of the current range (in the parameter's own scale) a zoomed range keeps, before rounding outward.</summary>
    public const double Shrink = 0.4;

    /// <summary>The share of ended trials whose categorical choices a zoom keeps (at least three trials).</summary>
    public const double TopFraction = 0.2;

    /// <summary>The next stage's space from this stage's space and every ended trial with a value; the space itself when none has one.</summary>
    public static SearchSpace Zoom(SearchSpace space, IReadOnlyList<TrialResult> history, Direction direction)
    {
        var scored = history.Where(t => t.Value is { } v && double.IsFinite(v))
            .OrderBy(t => direction == Direction.Maximize ? -t.Value!.Value : t.Value!.Value)
            .ToList();
        if (scored.Count == 0)
        {
            return space;
        }

        var top = scored.Take(Math.Max(3, (int)Math.Ceiling(TopFraction * scored.Count))).ToList();
        return ZoomAround(space, top[0].Params, top.Select(t => t.Params).ToList());
    }

    /// <summary>A space centred on one trial's values ("narrow and relaunch from this trial"), by the same rule as <see cref="Zoom"/>.</summary>
    public static SearchSpace Around(SearchSpace space, IReadOnlyDictionary<string, ParamValue> centre) =>
        ZoomAround(space, centre, [centre]);

    private static SearchSpace ZoomAround(SearchSpace space, IReadOnlyDictionary<string, ParamValue> centre, IReadOnlyList<IReadOnlyDictionary<string, ParamValue>> top)
    {
        var zoomed = space.Parameters.Select(p => centre.TryGetValue(p.Name, out var c) ? ZoomParameter(p, c, top) : p).ToList();

        // A parent that lost choices keeps only the conditions it can still meet; a child that can never be active goes.
        var kept = new List<Parameter>();
        foreach (var p in zoomed)
        {
            if (p.When is { } when && zoomed.FirstOrDefault(x => x.Name == when.Parent) is CategoricalParameter parent)
            {
                var still = when.Values.Where(parent.Choices.Contains).ToList();
                if (still.Count == 0)
                {
                    continue;
                }

                kept.Add(p with { When = when with { Values = still } });
            }
            else
            {
                kept.Add(p);
            }
        }

        return new SearchSpace(kept);
    }

    private static Parameter ZoomParameter(Parameter parameter, ParamValue centre, IReadOnlyList<IReadOnlyDictionary<string, ParamValue>> top)
    {
        if (parameter is CategoricalParameter categorical)
        {
            // Keep the choices the top trials used, in their original order (the incumbent's always among them).
            var used = top.Select(t => t.GetValueOrDefault(parameter.Name)).Append(centre).ToHashSet();
            return categorical with { Choices = [.. categorical.Choices.Where(used.Contains)] };
        }

        var uCentre = Math.Clamp(ToUnit(parameter, centre.Number), 0, 1);
        var (lo, hi) = (uCentre - (Shrink / 2), uCentre + (Shrink / 2));

        // Slide the window back inside the current range rather than cut it.
        if (lo < 0)
        {
            (lo, hi) = (0, Shrink);
        }
        else if (hi > 1)
        {
            (lo, hi) = (1 - Shrink, 1);
        }

        return parameter switch
        {
            FloatParameter f => Tidy(f, FromUnit(f, lo), FromUnit(f, hi)),
            IntParameter i => ZoomInt(i, lo, hi),
            _ => parameter,
        };
    }

    // Bounds people read and edit: four significant digits, rounded outward, never past the current range.
    private static FloatParameter Tidy(FloatParameter f, double low, double high)
    {
        var tidyLow = Math.Max(f.Low, ReadableBounds.Down(low, 4));
        var tidyHigh = Math.Min(f.High, ReadableBounds.Up(high, 4));
        return tidyHigh > tidyLow ? f with { Low = tidyLow, High = tidyHigh } : f with { Low = low, High = high };
    }

    private static IntParameter ZoomInt(IntParameter p, double lo, double hi)
    {
        // Round outward onto the step grid, and keep at least two values.
        var low = p.Low + (p.Step * (long)Math.Floor(ReadableBounds.OffRoundingError((FromUnit(p, lo) - p.Low) / p.Step)));
        var high = p.Low + (p.Step * (long)Math.Ceiling(ReadableBounds.OffRoundingError((FromUnit(p, hi) - p.Low) / p.Step)));
        low = Math.Max(p.Low, low);
        high = Math.Min(p.High, Math.Max(high, low + p.Step));
        return high > p.High ? p with { Low = Math.Max(p.Low, p.High - p.Step), High = p.High } : p with { Low = low, High = high };
    }

    // Ints use their plain bounds here (not IntParameter.ToUnit's half-step widening): the window is rounded outward later.
    private static double ToUnit(Parameter p, double x) => p switch
    {
        FloatParameter f => f.ToUnit(ParamValue.Of(x)),
        IntParameter { Scale: Scale.Log } i => (Math.Log(x) - Math.Log(i.Low)) / (Math.Log(i.High) - Math.Log(i.Low)),
        IntParameter i => (x - i.Low) / (double)(i.High - i.Low),
        _ => 0.5,
    };

    // Unlike IntParameter.FromUnit this does not snap: the caller rounds outward onto the step grid.
    private static double FromUnit(Parameter p, double u) => p switch
    {
        FloatParameter f => f.FromUnit(u).Number,
        IntParameter { Scale: Scale.Log } i => Math.Exp(Math.Log(i.Low) + (u * (Math.Log(i.High) - Math.Log(i.Low)))),
        IntParameter i => i.Low + (u * (i.High - i.Low)),
        _ => u,
    };
}
