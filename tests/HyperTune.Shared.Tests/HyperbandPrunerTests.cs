using HyperTune.Shared.Pruners;
using static HyperTune.Shared.Tests.PrunerStudies;

namespace HyperTune.Shared.Tests;

public class HyperbandPrunerTests
{
    private static readonly HyperbandPruner Pruner = new(minEpochs: 1, maxEpochs: 27, reductionFactor: 3);

    private static IEnumerable<long> IdsIn(int bracket) => Enumerable.Range(1, 10_000).Select(i => (long)i).Where(id => Pruner.BracketOf(id) == bracket);

    [Theory]
    [InlineData(1, 27, 3, 4)]
    [InlineData(1, 81, 3, 5)]
    [InlineData(2, 27, 3, 3)]
    [InlineData(1, 26, 3, 3)]
    [InlineData(5, 5, 2, 1)]
    public void BracketCount_MinAndMaxEpochs_OnePerPowerOfEta(int minEpochs, int maxEpochs, int eta, int brackets)
    {
        Assert.Equal(brackets, new HyperbandPruner(minEpochs, maxEpochs, eta).BracketCount);
    }

    [Fact]
    public void BracketOf_ManyTrials_SpreadsThemLikeHyperbandBudgets()
    {
        var counts = Enumerable.Range(1, 4900).GroupBy(id => Pruner.BracketOf(id)).ToDictionary(g => g.Key, g => g.Count());

        // Optuna's weights for η=3, R=27: 27, 12, 6 and 4 of every 49 trials.
        Assert.InRange(counts[0], 2700 * 0.9, 2700 * 1.1);
        Assert.InRange(counts[1], 1200 * 0.85, 1200 * 1.15);
        Assert.InRange(counts[2], 600 * 0.8, 600 * 1.2);
        Assert.InRange(counts[3], 400 * 0.8, 400 * 1.2);
    }

    [Fact]
    public void BracketOf_SameId_SameBracketFromAnyInstance()
    {
        var other = new HyperbandPruner(1, 27, 3);

        Assert.All(Enumerable.Range(1, 500), id => Assert.Equal(Pruner.BracketOf(id), other.BracketOf(id)));
    }

    [Fact]
    public void Decide_BetterTrialsOnlyInOtherBrackets_Continues()
    {
        var id = IdsIn(0).First();
        var strangers = IdsIn(1).Take(10).Select(other => Finished(other, 0.1)).ToList();

        Assert.False(Pruner.Decide(Context(Curve(id, 0.9), strangers)).Prune);
    }

    [Fact]
    public void Decide_BetterTrialsInItsOwnBracket_PrunesNamingTheBracket()
    {
        var ids = IdsIn(0).Take(9).ToList();
        var mates = ids.Skip(1).Select(other => Finished(other, 0.1)).ToList();

        var decision = Pruner.Decide(Context(Curve(ids[0], 0.9), mates));

        Assert.True(decision.Prune);
        Assert.Contains("the best 3 of 9 trials at epoch 1", decision.Reason);
        Assert.EndsWith("within Hyperband bracket 1 of 4 (first rung at epoch 1)", decision.Reason);
    }

    [Fact]
    public void Decide_ThirdBracket_FirstRanksAtEpochNine()
    {
        var ids = IdsIn(2).Take(10).ToList();
        var mates = ids.Skip(1).Select(other => Finished(other, Decaying(0.2, 27))).ToList();
        var bad = Curve(ids[0], [.. Enumerable.Repeat(0.95, 9)]);

        var pruned = Enumerable.Range(1, 9).Where(epoch => Pruner.Decide(Context(bad.At(epoch), mates)).Prune);

        Assert.Equal([9], pruned);
    }

    [Fact]
    public void Decide_LastBracket_NeverPrunes()
    {
        var ids = IdsIn(3).Take(10).ToList();
        var mates = ids.Skip(1).Select(other => Finished(other, Decaying(0.2, 27))).ToList();
        var bad = Curve(ids[0], [.. Enumerable.Repeat(0.95, 27)]);

        Assert.All(Enumerable.Range(1, 27), epoch => Assert.False(Pruner.Decide(Context(bad.At(epoch), mates)).Prune));
    }

    [Theory]
    [InlineData(0, 27, 3, "minEpochs")]
    [InlineData(9, 3, 3, "maxEpochs")]
    [InlineData(1, 27, 1, "reductionFactor")]
    public void Constructor_BadValue_ThrowsNamingIt(int minEpochs, int maxEpochs, int eta, string name)
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new HyperbandPruner(minEpochs, maxEpochs, eta));

        Assert.Equal(name, error.ParamName);
    }
}
