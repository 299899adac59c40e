using HyperTune.Shared.Samplers;
using HyperTune.Shared.SearchSpaces;
using HyperTune.Shared.Studies;
using static HyperTune.Shared.Tests.SamplerHarness;

namespace HyperTune.Shared.Tests;

public class GpSamplerTests
{
    [Fact]
    public void Propose_Branin40Trials_BeatsRandomSearchOverSeeds()
    {
        int[] seeds = [1, 2, 3, 4, 5];

        var gp = MedianBraninRegret(s => new GpSampler(s), 40, seeds);
        var random = MedianBraninRegret(s => new RandomSampler(s), 40, seeds);

        Assert.True(gp < random * 0.5, $"median regret: GP {gp:G3}, random {random:G3}");
    }

    [Fact]
    public void Propose_FirstStartupTrials_AreTheRandomSamplersTrials()
    {
        var gp = Run(new GpSampler(3, startupTrials: 8), BraninSpace, 8, p => BraninRegret(p));
        var random = Run(new RandomSampler(3), BraninSpace, 8, p => BraninRegret(p));

        Assert.Equal(Show(random), Show(gp));
    }

    [Fact]
    public void Propose_Maximize_ClimbsInsteadOfDescending()
    {
        var history = Run(new GpSampler(4, startupTrials: 5), UnitBox(1), 20, p => -Math.Pow(p["x0"].Number - 0.8, 2), Direction.Maximize);

        Assert.InRange(history.Skip(10).Max(t => t.Value!.Value), -1e-3, 0);
    }

    [Fact]
    public void Propose_CategoricalWithOneGoodChoice_FindsIt()
    {
        var space = new SearchSpace(
        [
            new FloatParameter("x", 0, 1, Scale.Linear),
            new CategoricalParameter("optimizer", [ParamValue.Of("sgd"), ParamValue.Of("adam"), ParamValue.Of("rmsprop")]),
        ]);

        var history = Run(new GpSampler(2, startupTrials: 5), space, 25, p => (p["optimizer"].Text == "adam" ? 0 : 1) + Math.Abs(p["x"].Number - 0.5));

        Assert.True(history.Skip(10).Count(t => t.Params["optimizer"].Text == "adam") >= 10);
    }

    [Fact]
    public void FitSubset_UpToMaxFitTrials_KeepsEveryTrial()
    {
        var losses = Enumerable.Range(0, GpSampler.MaxFitTrials).Select(i => (double)(i % 7)).ToList();

        Assert.Equal(Enumerable.Range(0, GpSampler.MaxFitTrials), GpSampler.FitSubset(losses, seed: 1, trialNumber: 500));
    }

    [Fact]
    public void FitSubset_LongHistory_KeepsTheIncumbentTheBestQuarterAndTheNewestQuarter()
    {
        var random = new Random(3);
        var losses = Enumerable.Range(0, 1000).Select(_ => 1 + random.NextDouble()).ToList();
        losses[3] = 0;

        var subset = GpSampler.FitSubset(losses, seed: 1, trialNumber: 1000);

        Assert.Equal(GpSampler.MaxFitTrials, subset.Length);
        Assert.Equal(subset.Order().Distinct(), subset);
        Assert.Contains(3, subset);
        var best = Enumerable.Range(0, losses.Count).OrderBy(i => losses[i]).Take(GpSampler.MaxFitTrials / 4);
        Assert.Subset(subset.ToHashSet(), best.ToHashSet());
        Assert.Subset(subset.ToHashSet(), Enumerable.Range(1000 - (GpSampler.MaxFitTrials / 4), GpSampler.MaxFitTrials / 4).ToHashSet());
    }

    [Fact]
    public void FitSubset_SameSeedAndTrial_SameSubsetAndAnotherTrialAnotherSample()
    {
        var losses = Enumerable.Range(0, 600).Select(i => Math.Sin(i)).ToList();

        var first = GpSampler.FitSubset(losses, seed: 5, trialNumber: 600);

        Assert.Equal(first, GpSampler.FitSubset(losses, seed: 5, trialNumber: 600));
        Assert.NotEqual(first, GpSampler.FitSubset(losses, seed: 5, trialNumber: 601));
        Assert.NotEqual(first, GpSampler.FitSubset(losses, seed: 6, trialNumber: 600));
    }

    [Fact]
    public void Propose_HistoryBeyondMaxFitTrials_SameSeedSameProposalInRange()
    {
        var history = Run(new RandomSampler(11), BraninSpace, GpSampler.MaxFitTrials + 40, p => BraninRegret(p));
        var context = new SamplerContext(BraninSpace, history.Count, history, Direction.Minimize);

        var first = new GpSampler(2).Propose(context);
        var second = new GpSampler(2).Propose(context);

        Assert.Equal(first, second);
        AssertInRange(BraninSpace, first);
    }

    [Fact]
    public void Constructor_NegativeStartupTrials_ThrowsNamingIt()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new GpSampler(0, startupTrials: -1));

        Assert.Contains("startupTrials", error.Message);
    }
}
