using HyperTune.Shared.Samplers;
using HyperTune.Shared.SearchSpaces;
using HyperTune.Shared.Studies;
using static HyperTune.Shared.Tests.SamplerHarness;

namespace HyperTune.Shared.Tests;

public class TpeSamplerTests
{
    private static readonly int[] Seeds = [.. Enumerable.Range(1, 15)];

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Propose_Branin40Trials_BeatsRandomSearchOverSeeds(bool multivariate)
    {
        var tpe = MedianBraninRegret(s => new TpeSampler(s, multivariate), 40, Seeds);
        var random = MedianBraninRegret(s => new RandomSampler(s), 40, Seeds);

        Assert.True(tpe < random * 0.8, $"median regret: TPE {tpe:G3}, random {random:G3}");
    }

    [Fact]
    public void Propose_FirstStartupTrials_AreTheRandomSamplersTrials()
    {
        var tpe = Run(new TpeSampler(3, startupTrials: 10), BraninSpace, 10, p => BraninRegret(p));
        var random = Run(new RandomSampler(3), BraninSpace, 10, p => BraninRegret(p));

        Assert.Equal(Show(random), Show(tpe));
    }

    [Fact]
    public void Propose_CategoricalWithOneGoodChoice_MostlyProposesIt()
    {
        var space = new SearchSpace([new CategoricalParameter("optimizer", [ParamValue.Of("sgd"), ParamValue.Of("adam"), ParamValue.Of("rmsprop"), ParamValue.Of("lion")])]);

        var history = Run(new TpeSampler(8), space, 60, p => p["optimizer"].Text == "adam" ? 0.1 : 1.0);

        Assert.True(history.Skip(20).Count(t => t.Params["optimizer"].Text == "adam") > 25);
    }

    [Fact]
    public void Propose_Maximize_ClimbsInsteadOfDescending()
    {
        var space = UnitBox(1);

        var history = Run(new TpeSampler(4), space, 50, p => p["x0"].Number, Direction.Maximize);

        Assert.True(history.Skip(30).Average(t => t.Params["x0"].Number) > 0.7);
    }

    [Fact]
    public void Propose_RegionThatFails_IsProposedLessOften()
    {
        // Trials with x0 < 0.5 crash; failed trials join the worse group, so TPE leaves that half.
        var space = UnitBox(2);

        var history = Run(new TpeSampler(6), space, 60, p => p["x0"].Number < 0.5 ? null : p["x1"].Number);

        Assert.True(history.Skip(20).Count(t => t.Params["x0"].Number < 0.5) < 12);
    }

    [Theory]
    [InlineData(-1, 24, 1.0, "startupTrials")]
    [InlineData(10, 0, 1.0, "candidates")]
    [InlineData(10, 24, 0.0, "priorWeight must be a finite number > 0, got 0")]
    public void Constructor_BadSetting_ThrowsNamingIt(int startupTrials, int candidates, double priorWeight, string expected)
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new TpeSampler(0, false, startupTrials, candidates, priorWeight));

        Assert.Contains(expected, error.Message);
    }
}
