using HyperTune.Shared.Samplers;
using HyperTune.Shared.SearchSpaces;
using static HyperTune.Shared.Tests.SamplerHarness;

namespace HyperTune.Shared.Tests;

public class GridSamplerTests
{
    private static readonly SearchSpace Mixed = new(
    [
        new FloatParameter("lr", 1e-4, 1, Scale.Log),
        new IntParameter("layers", 1, 3, Scale.Linear),
        new CategoricalParameter("optimizer", [ParamValue.Of("sgd"), ParamValue.Of("adam")]),
    ]);

    [Fact]
    public void Propose_FirstGridSizeTrials_VisitEveryPointExactlyOnce()
    {
        var space = UnitBox(3);
        var sampler = new GridSampler(11, resolution: 6);

        var points = Run(sampler, space, 216, _ => 0).Select(t => Show([t])).ToList();

        Assert.Equal(216, sampler.Size(space));
        Assert.Equal(216, points.Distinct().Count());
    }

    [Fact]
    public void Propose_AfterTheGridIsExhausted_RepeatsTheSameOrder()
    {
        var sampler = new GridSampler(4, resolution: 5);

        var trials = Run(sampler, Mixed, 60, _ => 0).Select(t => Show([t])).ToList();

        Assert.Equal(trials[..30], trials[30..]);
    }

    [Fact]
    public void Propose_LogParameter_SpacesPointsGeometrically()
    {
        var space = new SearchSpace([new FloatParameter("lr", 1e-4, 1, Scale.Log)]);

        var values = Run(new GridSampler(1, resolution: 5), space, 5, _ => 0).Select(t => t.Params["lr"].Number).Order().ToList();

        Assert.Equal([1e-4, 1e-3, 1e-2, 1e-1, 1], values, (a, b) => Math.Abs(Math.Log10(a) - Math.Log10(b)) < 1e-9);
    }

    [Fact]
    public void Axes_IntAndCategorical_SnapsIntsAndKeepsEveryChoice()
    {
        var axes = new GridSampler(0, resolution: 10).Axes(Mixed);

        Assert.Equal([1.0, 2.0, 3.0], axes[1].Select(v => v.Number));
        Assert.Equal(["sgd", "adam"], axes[2].Select(v => v.Text));
        Assert.Equal(60, new GridSampler(0, resolution: 10).Size(Mixed));
    }

    [Fact]
    public void Axes_ResolutionByName_OverridesTheDefault()
    {
        var sampler = new GridSampler(0, resolution: 3, resolutions: new Dictionary<string, int> { ["x1"] = 7 });

        Assert.Equal([3, 7], sampler.Axes(UnitBox(2)).Select(a => a.Count));
    }

    [Fact]
    public void Propose_DifferentSeeds_VisitTheGridInDifferentOrders()
    {
        var first = Show(Run(new GridSampler(1), UnitBox(2), 100, _ => 0));
        var second = Show(Run(new GridSampler(2), UnitBox(2), 100, _ => 0));

        Assert.NotEqual(first, second);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-3)]
    public void Constructor_ResolutionBelowOne_ThrowsNamingTheValue(int resolution)
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new GridSampler(0, resolution));

        Assert.Contains(resolution.ToString(System.Globalization.CultureInfo.InvariantCulture), error.Message);
    }

    [Fact]
    public void Constructor_ResolutionByNameBelowOne_ThrowsNamingTheParameter()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new GridSampler(0, 10, new Dictionary<string, int> { ["lr"] = 0 }));

        Assert.Contains("resolutions[lr] must be at least 1, got 0", error.Message);
    }
}
