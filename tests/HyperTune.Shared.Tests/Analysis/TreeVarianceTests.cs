using HyperTune.Shared.Analysis;

namespace HyperTune.Shared.Tests.Analysis;

public sealed class TreeVarianceTests
{
    [Fact]
    public void MainEffect_TreeSplittingOnOneFeature_GivesItAllTheVariance()
    {
        // x0 <= 0.5 → 0, else 1.
        var tree = new TreeVariance(2, [~0], [~1], [0], [0.5f], [0.0, 1.0]);

        Assert.Equal(0.5, tree.Mean, 12);
        Assert.Equal(0.25, tree.Total, 12);
        Assert.Equal(0.25, tree.MainEffect(0), 12);
        Assert.Equal(0, tree.MainEffect(1), 12);
    }

    [Fact]
    public void MainEffect_AdditiveTree_SplitsTheVarianceByEachFeaturesStep()
    {
        // 10·[x0 > 0.5] + [x1 > 0.25]: node 0 splits x0, nodes 1 and 2 split x1.
        var tree = new TreeVariance(2, [1, ~0, ~2], [2, ~1, ~3], [0, 1, 1], [0.5f, 0.25f, 0.25f], [0.0, 1.0, 10.0, 11.0]);

        Assert.Equal(5.75, tree.Mean, 12);
        Assert.Equal(25, tree.MainEffect(0), 9);
        Assert.Equal(0.1875, tree.MainEffect(1), 9);
        Assert.Equal(25.1875, tree.Total, 9);
    }

    [Fact]
    public void Total_SingleLeaf_IsZero()
    {
        var tree = new TreeVariance(3, [], [], [], [], [4.0]);

        Assert.Equal(4, tree.Mean);
        Assert.Equal(0, tree.Total);
        Assert.Equal(0, tree.MainEffect(2));
    }
}
