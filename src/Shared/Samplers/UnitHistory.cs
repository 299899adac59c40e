using HyperTune.Shared.SearchSpaces;
using HyperTune.Shared.Studies;

namespace HyperTune.Shared.Samplers;

/// <summary>A past trial on the unit box: one coordinate per parameter of the space, and its loss (smaller is better).</summary>
/// <param name="X">Each parameter's <see cref="Parameter.ToUnit"/>, in the space's order.</param>
/// <param name="Loss">The value, negated when the study maximises; null when the trial failed or its value is not finite.</param>
internal sealed record UnitTrial(double[] X, double? Loss);

internal static class UnitHistory
{
    /// <summary>The history's trials that set every parameter of the space to a value it can take, oldest first.</summary>
    public static List<UnitTrial> From(SamplerContext context)
    {
        var parameters = context.Space.Parameters;
        var trials = new List<UnitTrial>(context.History.Count);
        foreach (var trial in context.History)
        {
            var x = new double[parameters.Count];
            var usable = true;
            for (var d = 0; d < parameters.Count && usable; d++)
            {
                x[d] = trial.Params.TryGetValue(parameters[d].Name, out var value) ? parameters[d].ToUnit(value) : double.NaN;
                usable = !double.IsNaN(x[d]);
            }

            if (usable)
            {
                double? loss = trial.Value is { } v && double.IsFinite(v) ? (context.Direction == Direction.Maximize ? -v : v) : null;
                trials.Add(new UnitTrial(x, loss));
            }
        }

        return trials;
    }

    /// <summary>Maps a point of the unit box back onto the space's values.</summary>
    public static IReadOnlyDictionary<string, ParamValue> ToProposal(SearchSpace space, double[] u)
    {
        var proposal = new Dictionary<string, ParamValue>(u.Length);
        for (var d = 0; d < u.Length; d++)
        {
            proposal[space.Parameters[d].Name] = space.Parameters[d].FromUnit(Math.Clamp(u[d], 0, 1 - 1e-12));
        }

        return proposal;
    }
}
