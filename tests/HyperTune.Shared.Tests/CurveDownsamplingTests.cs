using HyperTune.Shared.Analysis;

namespace HyperTune.Shared.Tests;

public sealed class CurveDownsamplingTests
{
    private static List<(double X, double Y)> Curve(int n, Func<int, double> y) => [.. Enumerable.Range(0, n).Select(i => ((double)i, y(i)))];

    [Fact]
    public void MinMax_CurveThatFits_ComesBackUnchanged()
    {
        var curve = Curve(50, i => i * 0.1);

        Assert.Same(curve, CurveDownsampling.MinMax(curve, 200));
    }

    [Fact]
    public void MinMax_LongCurve_KeepsFirstLastAndAtMostMaxPointsInXOrder()
    {
        var curve = Curve(10_000, i => Math.Sin(i / 100.0));

        var thin = CurveDownsampling.MinMax(curve, 200);

        Assert.InRange(thin.Count, 150, 200);
        Assert.Equal(curve[0], thin[0]);
        Assert.Equal(curve[^1], thin[^1]);
        Assert.True(thin.Zip(thin.Skip(1)).All(p => p.First.X < p.Second.X));
    }

    [Fact]
    public void MinMax_OneSpikeInALongFlatCurve_KeepsTheSpike()
    {
        var curve = Curve(5_000, i => i == 3_217 ? 9.0 : 1.0);

        var thin = CurveDownsampling.MinMax(curve, 100);

        Assert.Contains((3_217.0, 9.0), thin);
    }

    [Fact]
    public void MinMax_NaNInALongCurve_KeepsTheGap()
    {
        var curve = Curve(5_000, i => i == 4_000 ? double.NaN : i);

        var thin = CurveDownsampling.MinMax(curve, 100);

        Assert.Contains(thin, p => p.X == 4_000 && double.IsNaN(p.Y));
    }

    [Fact]
    public void MinMax_MaxPointsBelowFour_ThrowsNamingTheValue()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => CurveDownsampling.MinMax(Curve(10, i => i), 3));

        Assert.Equal("maxPoints", error.ParamName);
        Assert.Contains("at least 4", error.Message, StringComparison.Ordinal);
    }
}
