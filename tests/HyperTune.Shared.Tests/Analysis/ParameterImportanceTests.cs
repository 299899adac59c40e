using HyperTune.Shared.Analysis;
using HyperTune.Shared.SearchSpaces;

namespace HyperTune.Shared.Tests.Analysis;

public sealed class ParameterImportanceTests
{
    private static readonly SearchSpace Space = new(
    [
        new FloatParameter("lr", 1e-5, 0.3, Scale.Log),
        new FloatParameter("dropout", 0, 0.5, Scale.Linear),
        new IntParameter("layers", 1, 6, Scale.Linear),
        new CategoricalParameter("optimizer", [ParamValue.Of("sgd"), ParamValue.Of("adam"), ParamValue.Of("rmsprop")]),
    ]);

    /// <summary>Random trials of <see cref="Space"/> scored by <paramref name="objective"/> plus a little noise.</summary>
    private static List<ScoredTrial> Trials(int count, Func<IReadOnlyDictionary<string, ParamValue>, double> objective, int seed = 11)
    {
        var random = new Random(seed);
        return [.. Enumerable.Range(1, count).Select(n =>
        {
            var values = Space.Parameters.ToDictionary(p => p.Name, p => p.FromUnit(random.NextDouble()));
            return new ScoredTrial(n, objective(values) + (0.01 * random.NextDouble()), values);
        })];
    }

    // Peaks at lr = 0.003, smooth in log10(lr); ignores everything else.
    private static double OnlyLr(IReadOnlyDictionary<string, ParamValue> p) => -Math.Pow(Math.Log10(p["lr"].Number) + 2.5, 2);

    [Fact]
    public void Compute_OnlyLrMatters_RanksLrFirstWithNearlyAllTheImportance()
    {
        var result = ParameterImportance.Compute(Space, Trials(300, OnlyLr), seed: 1);

        Assert.Equal("lr", result.Parameters[0].Name);
        Assert.True(result.Parameters[0].Importance > 0.9, $"lr importance {result.Parameters[0].Importance}");
        Assert.Equal(1, result.Parameters.Sum(p => p.Importance), 9);
        Assert.Equal(4, result.Parameters.Count);
        Assert.Equal((300, 300), (result.TrialsUsed, result.TrialsAvailable));
    }

    [Fact]
    public void Compute_OnlyTheCategoricalMatters_RanksItFirst()
    {
        var score = new Dictionary<string, double> { ["sgd"] = 0, ["adam"] = 1, ["rmsprop"] = 0.2 };

        var result = ParameterImportance.Compute(Space, Trials(200, p => score[p["optimizer"].Text!]), seed: 1);

        Assert.Equal("optimizer", result.Parameters[0].Name);
        Assert.True(result.Parameters[0].Importance > 0.9, $"optimizer importance {result.Parameters[0].Importance}");
    }

    [Fact]
    public void Compute_SameSeedAndTrials_GivesTheSameShares()
    {
        var trials = Trials(150, p => OnlyLr(p) + p["dropout"].Number);

        var first = ParameterImportance.Compute(Space, trials, seed: 9);
        var second = ParameterImportance.Compute(Space, trials, seed: 9);

        Assert.Equal(first.Parameters, second.Parameters);
    }

    [Fact]
    public void Compute_MoreTrialsThanOneFitTakes_UsesASampleAndStillFindsLr()
    {
        var result = ParameterImportance.Compute(Space, Trials(ParameterImportance.MaxTrials + 1000, OnlyLr), seed: 2);

        Assert.Equal((ParameterImportance.MaxTrials, ParameterImportance.MaxTrials + 1000), (result.TrialsUsed, result.TrialsAvailable));
        Assert.Equal("lr", result.Parameters[0].Name);
    }

    [Fact]
    public void Compute_FewerThanMinTrials_HasNoShares()
    {
        var result = ParameterImportance.Compute(Space, Trials(ParameterImportance.MinTrials - 1, OnlyLr), seed: 1);

        Assert.Empty(result.Parameters);
        Assert.Equal(ParameterImportance.MinTrials - 1, result.TrialsAvailable);
    }

    [Fact]
    public void Compute_EveryTrialScoresTheSame_IsFlat()
    {
        var trials = Trials(20, _ => 0).Select(t => t with { Value = 0.5 }).ToList();

        var result = ParameterImportance.Compute(Space, trials, seed: 1);

        Assert.True(result.IsFlat);
        Assert.Equal(4, result.Parameters.Count);
    }

    [Fact]
    public void Compute_ConditionalParameterMissingFromSomeTrials_StillRanksWhatMatters()
    {
        var momentum = new FloatParameter("momentum", 0.5, 0.99, Scale.Linear) { When = new Condition("optimizer", [ParamValue.Of("sgd")]) };
        var space = new SearchSpace([.. Space.Parameters, momentum]);
        var trials = Trials(200, OnlyLr)
            .Select(t => t.Params["optimizer"].Text == "sgd" ? t with { Params = new Dictionary<string, ParamValue>(t.Params) { ["momentum"] = ParamValue.Of(0.9) } } : t)
            .ToList();

        var result = ParameterImportance.Compute(space, trials, seed: 1);

        Assert.Equal("lr", result.Parameters[0].Name);
        Assert.Contains(result.Parameters, p => p.Name == "momentum");
    }
}
