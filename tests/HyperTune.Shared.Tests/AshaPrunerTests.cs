using HyperTune.Shared.Pruners;
using static HyperTune.Shared.Tests.PrunerStudies;

namespace HyperTune.Shared.Tests;

public class AshaPrunerTests
{
    // Eight finished trials whose epoch-1 values are 0.1, 0.2, … 0.8.
    private static readonly List<TrialCurve> Rung1 = [.. Enumerable.Range(1, 8).Select(i => Finished(i, i / 10.0))];

    [Fact]
    public void Decide_NineTrialsAtARung_KeepsTheTopThird()
    {
        var pruner = new AshaPruner(minEpochs: 1, reductionFactor: 3);

        Assert.False(pruner.Decide(Context(Curve(100, 0.3), Rung1)).Prune);
        var decision = pruner.Decide(Context(Curve(100, 0.35), Rung1));

        Assert.True(decision.Prune);
        Assert.Equal(
            "pruned at epoch 1, a successive-halving rung: val_loss 0.35 is worse than 0.3, the cutoff for the best 3 of 9 trials at epoch 1 (top 1/3 continue)",
            decision.Reason);
    }

    [Fact]
    public void Decide_BetweenRungs_Continues()
    {
        var pruner = new AshaPruner(minEpochs: 1, reductionFactor: 3);
        var study = FinishedStudy(20);
        var bad = Curve(100, 0.95, 0.95, 0.95, 0.95);

        Assert.Equal([true, false, true, false], Enumerable.Range(1, 4).Select(e => pruner.Decide(Context(bad.At(e), study)).Prune));
    }

    [Theory]
    [InlineData(1, 3, null, new[] { 1, 3, 9, 27, 81 })]
    [InlineData(2, 2, 16, new[] { 2, 4, 8 })]
    [InlineData(4, 3, null, new[] { 4, 12, 36 })]
    public void IsRung_MinEpochsTimesPowersOfEta_BelowMaxEpochs(int minEpochs, int eta, int? maxEpochs, int[] rungs)
    {
        var pruner = new AshaPruner(minEpochs, eta, maxEpochs);

        Assert.Equal(rungs, Enumerable.Range(0, 100).Where(pruner.IsRung));
    }

    [Fact]
    public void Decide_FewerThanEtaTrialsAtTheRung_OnlyTheBestContinues()
    {
        var pruner = new AshaPruner(reductionFactor: 3);
        var first = Finished(1, 0.5);

        Assert.False(pruner.Decide(Context(Curve(2, 0.4), [first])).Prune);
        Assert.True(pruner.Decide(Context(Curve(2, 0.6), [first])).Prune);
        Assert.Contains("the cutoff for the best of 2 trials", pruner.Decide(Context(Curve(2, 0.6), [first])).Reason);
    }

    [Fact]
    public void Decide_TrialsArriveWorstFirst_EveryNewcomerIsPromotedWithoutWaiting()
    {
        var pruner = new AshaPruner(reductionFactor: 3);
        var study = new List<TrialCurve>();

        foreach (var id in Enumerable.Range(1, 30))
        {
            var trial = Curve(id, 1.0 / id);
            Assert.False(pruner.Decide(Context(trial, study)).Prune);
            study.Add(trial with { Finished = true });
        }
    }

    [Fact]
    public void Decide_StudyOf81Trials_AboutOneInEtaReachesEachNextRung()
    {
        var pruner = new AshaPruner(minEpochs: 1, reductionFactor: 3, maxEpochs: 27);
        var study = new List<TrialCurve>();

        // Quality in a scrambled order (trial 0 is the best); each trial's loss falls towards it, as a run would, epoch by epoch.
        foreach (var id in Enumerable.Range(0, 81))
        {
            var curve = Decaying(0.1 + (0.5 * ((id * 37) % 81) / 81.0), 27);
            var epochs = 0;
            while (epochs < curve.Length && !pruner.Decide(Context(Curve(id, curve[..++epochs]), study)).Prune)
            {
            }

            study.Add(Finished(id, curve[..epochs]));
        }

        int[] rungs = [1, 3, 9, 27];
        var reached = rungs.Select(e => study.Count(c => c.Values.Count >= e)).ToArray();
        // Synchronous halving would give 81, 27, 9, 3; promoting without waiting is stricter where few trials arrived yet.
        Assert.True(reached is [81, >= 20 and <= 40, >= 4 and <= 18, >= 1 and <= 9], $"trials reaching epochs 1, 3, 9, 27: {string.Join(", ", reached)}");
        Assert.Equal(27, study.Single(c => c.TrialId == 0).Values.Count);
    }

    [Fact]
    public void Decide_NaNAtARung_Prunes()
    {
        var decision = new AshaPruner().Decide(Context(Curve(100, double.NaN), Rung1));

        Assert.True(decision.Prune);
        Assert.Contains("NaN", decision.Reason);
    }

    [Fact]
    public void Decide_OthersThatReportedNaN_RankBelowEveryValue()
    {
        var diverged = Enumerable.Range(1, 8).Select(i => Finished(i, double.NaN)).ToList();

        Assert.False(new AshaPruner().Decide(Context(Curve(100, double.PositiveInfinity), diverged)).Prune);
    }

    [Fact]
    public void Decide_AtMaxEpochs_Continues()
    {
        var pruner = new AshaPruner(minEpochs: 1, reductionFactor: 3, maxEpochs: 9);
        var bad = Curve(100, [.. Enumerable.Repeat(0.95, 9)]);

        Assert.False(pruner.Decide(Context(bad, FinishedStudy(20))).Prune);
    }

    [Theory]
    [InlineData(0, 3, null, "minEpochs")]
    [InlineData(1, 1, null, "reductionFactor")]
    [InlineData(3, 3, 2, "maxEpochs")]
    public void Constructor_BadValue_ThrowsNamingIt(int minEpochs, int eta, int? maxEpochs, string name)
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new AshaPruner(minEpochs, eta, maxEpochs));

        Assert.Equal(name, error.ParamName);
    }
}
