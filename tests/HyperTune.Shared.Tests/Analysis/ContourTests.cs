using HyperTune.Shared.Analysis;
using HyperTune.Shared.SearchSpaces;

namespace HyperTune.Shared.Tests.Analysis;

public sealed class ContourTests
{
    private static readonly FloatParameter X = new("x", 0, 1, Scale.Linear);
    private static readonly FloatParameter Lr = new("lr", 1e-4, 1, Scale.Log);

    private static ParameterAxis Axis(Parameter p) => ParameterAxis.For(p, []);

    private static ScoredTrial Trial(int number, double value, params (string Name, double Value)[] values) =>
        new(number, value, values.ToDictionary(v => v.Name, v => ParamValue.Of(v.Value)));

    [Fact]
    public void Build_PlaneSampledOnALattice_InterpolatesThePlane()
    {
        var y = new FloatParameter("y", 0, 2, Scale.Linear);
        var trials = new List<ScoredTrial>();
        for (var i = 0; i <= 10; i++)
        {
            for (var j = 0; j <= 10; j++)
            {
                trials.Add(Trial(trials.Count + 1, (i / 10.0) + (j / 5.0), ("x", i / 10.0), ("y", j / 5.0)));
            }
        }

        var contour = Contour.Build(Axis(X), Axis(y), trials);

        Assert.Equal(Contour.DefaultSize, contour.GridX.Count);
        Assert.Equal(Contour.DefaultSize, contour.Z.Count);
        Assert.Equal((0.0, 1.0), (contour.GridX[0], contour.GridX[^1]));
        Assert.Equal((0.0, 2.0), (contour.GridY[0], contour.GridY[^1]));
        for (var row = 0; row < contour.GridY.Count; row++)
        {
            for (var column = 0; column < contour.GridX.Count; column++)
            {
                Assert.InRange(contour.Z[row][column] - (contour.GridX[column] + contour.GridY[row]), -0.1, 0.1);
            }
        }

        Assert.Equal(0, contour.Z[0][0], 12);
        Assert.Equal(3, contour.Z[^1][^1], 12);
        Assert.Equal(121, contour.Points.Count);
    }

    [Fact]
    public void Build_LogParameter_InterpolatesInLogSpace()
    {
        // The objective is log10(lr), sampled every half decade: between two samples a cell reads its own position.
        var trials = Enumerable.Range(0, 9).Select(k => Math.Pow(10, -4 + (k * 0.5)))
            .SelectMany(lr => new[] { 0, 0.5, 1 }.Select(x => (lr, x)))
            .Select((p, n) => Trial(n + 1, Math.Log10(p.lr), ("lr", p.lr), ("x", p.x)))
            .ToList();

        var contour = Contour.Build(Axis(Lr), Axis(X), trials, size: 17);

        Assert.Equal(-4, contour.GridX[0], 12);
        Assert.Equal(-3.75, contour.GridX[1], 12);
        Assert.Equal(0, contour.GridX[^1], 12);
        for (var column = 0; column < 17; column++)
        {
            Assert.InRange(contour.Z[8][column] - contour.GridX[column], -0.1, 0.1);
        }
    }

    [Fact]
    public void Build_TrialsWithoutEitherParameterOrWithNonFiniteValues_AreLeftOut()
    {
        var trials = new List<ScoredTrial>
        {
            Trial(1, 1, ("x", 0.2), ("lr", 0.01)),
            Trial(2, 2, ("x", 0.4)),
            Trial(3, double.NaN, ("x", 0.5), ("lr", 0.1)),
            Trial(4, 3, ("x", 0.6), ("lr", 0.001)),
        };

        var contour = Contour.Build(Axis(X), Axis(Lr), trials, size: 4);

        Assert.Equal([1, 4], contour.Points.Select(p => p.Number));
        Assert.Equal(-2, contour.Points[0].Y, 12);
        Assert.All(contour.Z.SelectMany(r => r), z => Assert.InRange(z, 1, 3));
    }

    [Fact]
    public void Build_NoTrialHasBothParameters_HasAnEmptyGrid()
    {
        var contour = Contour.Build(Axis(X), Axis(Lr), [Trial(1, 1, ("x", 0.2))]);

        Assert.Empty(contour.Z);
        Assert.Empty(contour.Points);
    }
}
