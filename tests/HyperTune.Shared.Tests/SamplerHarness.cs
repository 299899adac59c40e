using HyperTune.Shared.Samplers;
using HyperTune.Shared.SearchSpaces;
using HyperTune.Shared.Studies;

namespace HyperTune.Shared.Tests;

/// <summary>Runs a sampler against an objective the way the scheduler does: one trial at a time, each seeing the ones before.</summary>
internal static class SamplerHarness
{
    public static readonly SearchSpace EveryKind = new(
    [
        new FloatParameter("lr", 1e-5, 0.3, Scale.Log),
        new FloatParameter("dropout", 0, 0.5, Scale.Linear),
        new IntParameter("units", 8, 1024, Scale.Log),
        new IntParameter("layers", 1, 6, Scale.Linear),
        new IntParameter("batch", 16, 256, Scale.Linear, Step: 16),
        new IntParameter("width", 4, 400, Scale.Log, Step: 4),
        new CategoricalParameter("optimizer", [ParamValue.Of("sgd"), ParamValue.Of("adam"), ParamValue.Of("rmsprop")]),
        new CategoricalParameter("size", [ParamValue.Of(32), ParamValue.Of(64), ParamValue.Of(128)]),
        new CategoricalParameter("bn", [ParamValue.Of(true), ParamValue.Of(false)]),
    ]);

    public static SearchSpace UnitBox(int dimensions) =>
        new(Enumerable.Range(0, dimensions).Select(d => (Parameter)new FloatParameter($"x{d}", 0, 1, Scale.Linear)).ToList());

    /// <summary>A smooth objective of any space: squared distance from 0.3 on every parameter's unit scale.</summary>
    public static double Bowl(SearchSpace space, IReadOnlyDictionary<string, ParamValue> p) =>
        space.Parameters.Sum(q => Math.Pow(q.ToUnit(p[q.Name]) - 0.3, 2));

    public static readonly SearchSpace BraninSpace = new(
    [
        new FloatParameter("x1", -5, 10, Scale.Linear),
        new FloatParameter("x2", 0, 15, Scale.Linear),
    ]);

    /// <summary>Branin's regret: its value minus its known minimum 0.397887.</summary>
    public static double BraninRegret(IReadOnlyDictionary<string, ParamValue> p)
    {
        double x1 = p["x1"].Number, x2 = p["x2"].Number;
        var a = x2 - (5.1 / (4 * Math.PI * Math.PI) * x1 * x1) + (5 / Math.PI * x1) - 6;
        return (a * a) + (10 * (1 - (1 / (8 * Math.PI))) * Math.Cos(x1)) + 10 - 0.397887;
    }

    /// <summary>The median over seeds of the best Branin regret after <paramref name="trials"/> trials.</summary>
    public static double MedianBraninRegret(Func<int, ISampler> sampler, int trials, params int[] seeds)
    {
        var best = seeds.Select(s => Run(sampler(s), BraninSpace, trials, p => BraninRegret(p)).Min(t => t.Value!.Value)).Order().ToList();
        return best[best.Count / 2];
    }

    /// <summary>Proposes and evaluates <paramref name="trials"/> trials; a null from the objective is a failed trial.</summary>
    public static List<TrialResult> Run(
        ISampler sampler,
        SearchSpace space,
        int trials,
        Func<IReadOnlyDictionary<string, ParamValue>, double?> objective,
        Direction direction = Direction.Minimize)
    {
        var history = new List<TrialResult>();
        for (var n = 0; n < trials; n++)
        {
            var proposal = sampler.Propose(new SamplerContext(space, n, history.ToList(), direction));
            history.Add(new TrialResult(proposal, objective(proposal)));
        }

        return history;
    }

    public static string Show(IEnumerable<TrialResult> history) =>
        string.Join("|", history.Select(t => string.Join(",", t.Params.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{kv.Key}={kv.Value}"))));

    /// <summary>Every parameter of the space is proposed, with a value it accepts, inside its bounds and on its step.</summary>
    public static void AssertInRange(SearchSpace space, IReadOnlyDictionary<string, ParamValue> proposal)
    {
        Assert.Equal(space.Parameters.Count, proposal.Count);
        foreach (var parameter in space.Parameters)
        {
            var value = proposal[parameter.Name];
            Assert.Null(parameter.Reject(value));
            switch (parameter)
            {
                case FloatParameter f:
                    Assert.InRange(value.Number, f.Low, f.High);
                    break;
                case IntParameter i:
                    Assert.InRange(value.Number, i.Low, i.High);
                    Assert.Equal(0.0, (value.Number - i.Low) % i.Step);
                    break;
                case CategoricalParameter c:
                    Assert.Contains(value, c.Choices);
                    break;
            }
        }
    }
}
