using HyperTune.Shared.Samplers;
using static HyperTune.Shared.Tests.SamplerHarness;

namespace HyperTune.Shared.Tests;

public class SobolSamplerTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(17)]
    [InlineData(-5)]
    public void Propose_FirstPowerOfTwoTrials_PutOnePointInEveryStripOfEveryAxis(int seed)
    {
        const int points = 64;
        var space = UnitBox(SobolSampler.MaxDimensions);

        var history = Run(new SobolSampler(seed), space, points, _ => 0);

        foreach (var parameter in space.Parameters)
        {
            var strips = history.Select(t => (int)(t.Params[parameter.Name].Number * points)).Distinct().Count();
            Assert.Equal(points, strips);
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    public void Propose_UnitSquare_FillsItMoreEvenlyThanRandom(int seed)
    {
        const int cells = 16;
        var square = UnitBox(2);

        int Empty(ISampler sampler) => cells * cells - Run(sampler, square, cells * cells, _ => 0)
            .Select(t => ((int)(t.Params["x0"].Number * cells), (int)(t.Params["x1"].Number * cells)))
            .Distinct()
            .Count();

        // 256 uniform points leave about 256/e ≈ 94 of 256 cells empty; a Sobol (0, 8, 2)-net leaves none.
        Assert.Equal(0, Empty(new SobolSampler(seed)));
        Assert.True(Empty(new RandomSampler(seed)) > 60);
    }

    [Fact]
    public void Propose_BeyondTheDirectionTable_StillSpreadsTheExtraParameters()
    {
        var space = UnitBox(SobolSampler.MaxDimensions + 3);

        var last = Run(new SobolSampler(8), space, 200, _ => 0).Select(t => t.Params[$"x{SobolSampler.MaxDimensions + 2}"].Number).ToList();

        Assert.InRange(last.Average(), 0.4, 0.6);
        Assert.True(last.Distinct().Count() > 190);
    }
}
