using HyperTune.Shared.Pruners;
using static HyperTune.Shared.Tests.PrunerStudies;

namespace HyperTune.Shared.Tests;

public class MedianPrunerTests
{
    private static readonly TrialCurve Bad = Curve(100, 0.9, 0.88, 0.87, 0.86);

    [Fact]
    public void Decide_ClearlyBadCurveAfterStartupTrials_Prunes()
    {
        double[] thirdEpoch = [0.3, 0.4, 0.5, 0.6, 0.7];
        var finished = thirdEpoch.Select((v, i) => Finished(i + 1, 0.8, 0.7, v, v - 0.1)).ToList();

        var decision = new MedianPruner(startupTrials: 5).Decide(Context(Bad.At(3), finished));

        Assert.True(decision.Prune);
        Assert.Equal("pruned at epoch 3: val_loss 0.87 is worse than the median 0.5 of 5 finished trials at epoch 3", decision.Reason);
    }

    [Fact]
    public void Decide_FewerFinishedTrialsThanStartup_Continues()
    {
        var finished = FinishedStudy(4);
        var running = FinishedStudy(10, firstId: 50).Select(c => c with { Finished = false });

        var decision = new MedianPruner(startupTrials: 5).Decide(Context(Bad, [.. finished, .. running]));

        Assert.False(decision.Prune);
    }

    [Fact]
    public void Decide_RunningTrials_DoNotMoveTheMedian()
    {
        var finished = FinishedStudy(5);
        var betterRunning = Enumerable.Range(50, 20).Select(id => Curve(id, 0.01, 0.01, 0.01, 0.01));
        var middling = Curve(100, Decaying(0.3, 4));
        var pruner = new MedianPruner(startupTrials: 5);

        Assert.False(pruner.Decide(Context(middling, finished)).Prune);
        Assert.False(pruner.Decide(Context(middling, [.. finished, .. betterRunning])).Prune);
    }

    [Fact]
    public void Decide_DuringWarmupEpochs_Continues()
    {
        var pruner = new MedianPruner(startupTrials: 5, warmupEpochs: 3);
        var study = FinishedStudy(10);

        Assert.All(Enumerable.Range(1, 3), epoch => Assert.False(pruner.Decide(Context(Bad.At(epoch), study)).Prune));
        Assert.True(pruner.Decide(Context(Bad.At(4), study)).Prune);
    }

    [Fact]
    public void Decide_LatestEpochWorseButBestSoFarBeatsTheMedian_Continues()
    {
        var study = FinishedStudy(10);
        var dip = Curve(100, 0.5, 0.2, 0.95);

        Assert.False(new MedianPruner().Decide(Context(dip, study)).Prune);
    }

    [Fact]
    public void Decide_BestSoFarIsAnEarlierEpoch_SentenceSaysSo()
    {
        var study = FinishedStudy(10);

        var decision = new MedianPruner().Decide(Context(Curve(100, 0.9, 0.85, 0.95), study));

        Assert.True(decision.Prune);
        Assert.Contains("its best val_loss so far 0.85 is worse than the median", decision.Reason);
    }

    [Fact]
    public void Decide_NaNReported_PrunesEvenDuringWarmupAndStartup()
    {
        var decision = new MedianPruner(startupTrials: 5, warmupEpochs: 10).Decide(Context(Curve(1, 0.5, double.NaN), []));

        Assert.True(decision.Prune);
        Assert.Equal("pruned at epoch 2: val_loss is NaN, which counts as worse than any value", decision.Reason);
    }

    [Fact]
    public void Decide_FinishedTrialsThatDiverged_CountAsWorstAndDoNotTightenTheMedian()
    {
        double[] finals = [0.3, 0.3, double.NaN, double.NaN, double.NaN];
        var study = finals.Select((v, i) => Finished(i + 1, v)).ToList();

        Assert.False(new MedianPruner().Decide(Context(Curve(100, 0.9), study)).Prune);
    }

    [Fact]
    public void Decide_EvenNumberOfFinishedTrials_UsesTheMeanOfTheTwoMiddleValues()
    {
        double[] finals = [0.2, 0.4, 0.6, 0.8];
        var study = finals.Select((v, i) => Finished(i + 1, v)).ToList();
        var pruner = new MedianPruner(startupTrials: 4);

        Assert.False(pruner.Decide(Context(Curve(100, 0.5), study)).Prune);
        Assert.Contains("the median 0.5 of 4 finished trials", pruner.Decide(Context(Curve(100, 0.51), study)).Reason);
    }

    [Fact]
    public void Decide_NoFinishedTrialReachedThisEpoch_Continues()
    {
        var shortOnes = FinishedStudy(10, epochs: 2);

        Assert.False(new MedianPruner().Decide(Context(Bad, shortOnes)).Prune);
    }

    [Theory]
    [InlineData(-1, 0, "startupTrials")]
    [InlineData(5, -2, "warmupEpochs")]
    public void Constructor_NegativeCounts_ThrowNamingTheValue(int startupTrials, int warmupEpochs, string name)
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new MedianPruner(startupTrials, warmupEpochs));

        Assert.Equal(name, error.ParamName);
    }
}
