using HyperTune.Shared.Pruners;
using static HyperTune.Shared.Tests.PrunerStudies;

namespace HyperTune.Shared.Tests;

public class PatiencePrunerTests
{
    private static PruneDecision After(PatiencePruner pruner, params double[] values) =>
        pruner.Decide(Context(Curve(1, values), []));

    [Fact]
    public void Decide_PatienceEpochsWithoutImprovement_PrunesOnTheLastOfThem()
    {
        var pruner = new PatiencePruner(patience: 3);

        Assert.False(After(pruner, 0.5, 0.4, 0.41, 0.42).Prune);
        var decision = After(pruner, 0.5, 0.4, 0.41, 0.42, 0.43);

        Assert.True(decision.Prune);
        Assert.Equal("pruned at epoch 5: val_loss 0.43 has not improved on its best 0.4 (epoch 2) for 3 epochs; patience is 3", decision.Reason);
    }

    [Fact]
    public void Decide_ImprovementInsideTheWindow_RestartsTheCount()
    {
        var pruner = new PatiencePruner(patience: 3);

        Assert.False(After(pruner, 0.5, 0.6, 0.6, 0.45, 0.6, 0.6).Prune);
    }

    [Fact]
    public void Decide_GainsThatNeverAddUpToMinDelta_CountAsNoImprovement()
    {
        var pruner = new PatiencePruner(patience: 3, minDelta: 0.01);

        var decision = After(pruner, 0.5, 0.498, 0.496, 0.495);

        Assert.True(decision.Prune);
        Assert.Contains("has not improved by more than 0.01 on its best 0.5 (epoch 1)", decision.Reason);
    }

    [Fact]
    public void Decide_SmallGainsAddingUpPastMinDelta_Continues()
    {
        var pruner = new PatiencePruner(patience: 3, minDelta: 0.01);

        Assert.False(After(pruner, 0.5, 0.496, 0.492, 0.488).Prune);
    }

    [Fact]
    public void Decide_AccuracyThatKeepsRising_Continues()
    {
        var pruner = new PatiencePruner(patience: 2);
        var context = Context(Curve(1, 0.5, 0.6, 0.61, 0.62), [], maximize: true);

        Assert.False(pruner.Decide(context).Prune);
        Assert.True(pruner.Decide(context with { Maximize = false }).Prune);
    }

    [Fact]
    public void Decide_NaNReported_PrunesSayingSo()
    {
        var decision = After(new PatiencePruner(patience: 10), 0.5, 0.4, double.NaN);

        Assert.True(decision.Prune);
        Assert.Equal("pruned at epoch 3: val_loss is NaN, which counts as worse than any value", decision.Reason);
    }

    [Fact]
    public void Decide_InfinityBeforeFiniteValues_FiniteValuesImproveOnIt()
    {
        var pruner = new PatiencePruner(patience: 2);

        Assert.False(After(pruner, double.PositiveInfinity, 0.9, 0.8).Prune);
    }

    [Fact]
    public void Decide_NoEpochYet_Continues()
    {
        Assert.False(After(new PatiencePruner(1)).Prune);
    }

    [Fact]
    public void Constructor_PatienceBelowOne_ThrowsNamingTheValue()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new PatiencePruner(0));

        Assert.Equal("patience", error.ParamName);
        Assert.Contains("'0'", error.Message);
    }

    [Theory]
    [InlineData(-0.1)]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    public void Constructor_MinDeltaNegativeOrNotFinite_ThrowsNamingTheValue(double minDelta)
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new PatiencePruner(3, minDelta));

        Assert.Equal("minDelta", error.ParamName);
        Assert.Contains($"got {minDelta}", error.Message);
    }
}
