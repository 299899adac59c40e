using HyperTune.Shared.Samplers;

namespace HyperTune.Shared.Tests;

/// <summary>The scheduler skips loading history for samplers that say they ignore it: that must be true of them.</summary>
public sealed class SamplerHistoryContractTests
{
    [Theory]
    [InlineData("random")]
    [InlineData("sobol")]
    [InlineData("grid")]
    public void Propose_SamplerThatIgnoresHistory_ProposesTheSameWithAndWithoutIt(string type)
    {
        var sampler = Create(type);
        var history = SamplerHarness.Run(new RandomSampler(3), SamplerHarness.EveryKind, 30,
            p => SamplerHarness.Bowl(SamplerHarness.EveryKind, p));

        Assert.False(sampler.UsesHistory);
        for (var n = 0; n < 30; n++)
        {
            Assert.Equal(
                sampler.Propose(new SamplerContext(SamplerHarness.EveryKind, n, history)),
                sampler.Propose(new SamplerContext(SamplerHarness.EveryKind, n)));
        }
    }

    [Theory]
    [InlineData("gp")]
    [InlineData("tpe")]
    public void UsesHistory_ModelBasedSampler_IsTrue(string type) => Assert.True(Create(type).UsesHistory);

    private static ISampler Create(string type) => type switch
    {
        "random" => new RandomSampler(11),
        "sobol" => new SobolSampler(11),
        "grid" => new GridSampler(11, 4),
        "gp" => new GpSampler(11, 10),
        _ => new TpeSampler(11, multivariate: false, startupTrials: 10),
    };
}
