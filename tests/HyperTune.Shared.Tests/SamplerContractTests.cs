using HyperTune.Shared.Samplers;
using HyperTune.Shared.SearchSpaces;
using static HyperTune.Shared.Tests.SamplerHarness;

namespace HyperTune.Shared.Tests;

/// <summary>What every sampler promises, run against each of them.</summary>
public class SamplerContractTests
{
    private const int Trials = 30;

    public static TheoryData<string> Samplers => [.. Factories.Keys];

    private static Dictionary<string, Func<int, ISampler>> Factories { get; } = new()
    {
        ["random"] = seed => new RandomSampler(seed),
        ["grid"] = seed => new GridSampler(seed, resolution: 4),
        ["sobol"] = seed => new SobolSampler(seed),
        ["gp"] = seed => new GpSampler(seed),
        ["tpe"] = seed => new TpeSampler(seed),
        ["tpe multivariate"] = seed => new TpeSampler(seed, multivariate: true),
    };

    [Theory]
    [MemberData(nameof(Samplers))]
    public void Propose_EveryParameterKind_StaysInRange(string name)
    {
        var history = Run(Factories[name](42), EveryKind, Trials, p => Bowl(EveryKind, p));

        Assert.All(history, trial => AssertInRange(EveryKind, trial.Params));
    }

    [Theory]
    [MemberData(nameof(Samplers))]
    public void Propose_SameSeedAndHistory_GivesTheSameSequence(string name)
    {
        var first = Run(Factories[name](7), EveryKind, Trials, p => Bowl(EveryKind, p));
        var second = Run(Factories[name](7), EveryKind, Trials, p => Bowl(EveryKind, p));

        Assert.Equal(Show(first), Show(second));
    }

    [Theory]
    [MemberData(nameof(Samplers))]
    public void Propose_DifferentSeeds_GiveDifferentSequences(string name)
    {
        var seeds = new[] { 0, 1, 2, 42, -1, int.MaxValue };

        var sequences = seeds.Select(s => Show(Run(Factories[name](s), EveryKind, Trials, p => Bowl(EveryKind, p)))).ToList();

        Assert.Equal(seeds.Length, sequences.Distinct().Count());
    }

    [Theory]
    [MemberData(nameof(Samplers))]
    public void Propose_EmptySpace_ProposesNoParameters(string name)
    {
        var empty = new SearchSpace([]);

        var history = Run(Factories[name](3), empty, Trials, _ => 1.0);

        Assert.All(history, trial => Assert.Empty(trial.Params));
    }

    [Theory]
    [MemberData(nameof(Samplers))]
    public void Propose_HistoryWithFailedTrials_StaysInRange(string name)
    {
        // Every third trial fails, and one reports NaN: a sampler that learns must skip or penalise them, not crash.
        var history = Run(Factories[name](5), EveryKind, Trials, p =>
        {
            var value = Bowl(EveryKind, p);
            return value < 0.4 ? null : value > 2.5 ? double.NaN : value;
        });

        Assert.All(history, trial => AssertInRange(EveryKind, trial.Params));
    }

    [Theory]
    [MemberData(nameof(Samplers))]
    public void Propose_OnlyFailedTrials_StaysInRange(string name)
    {
        var history = Run(Factories[name](9), EveryKind, Trials, _ => null);

        Assert.All(history, trial => AssertInRange(EveryKind, trial.Params));
    }
}
