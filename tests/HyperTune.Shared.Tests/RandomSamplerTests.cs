using HyperTune.Shared.Samplers;
using HyperTune.Shared.SearchSpaces;

namespace HyperTune.Shared.Tests;

public class RandomSamplerTests
{
    private const int Draws = 20_000;

    private static readonly SearchSpace EveryKind = SamplerHarness.EveryKind;

    [Fact]
    public void Propose_EveryParameterKind_StaysInRangeOverManyDraws()
    {
        var sampler = new RandomSampler(42);

        foreach (var n in Enumerable.Range(0, Draws))
        {
            SamplerHarness.AssertInRange(EveryKind, sampler.Propose(new SamplerContext(EveryKind, n)));
        }
    }

    [Fact]
    public void Propose_SameSeed_GivesTheSameSequence()
    {
        var first = Draw(new RandomSampler(7), EveryKind, 200);
        var second = Draw(new RandomSampler(7), EveryKind, 200);

        Assert.Equal(first, second);
    }

    [Fact]
    public void Propose_DifferentSeeds_GiveDifferentSequences()
    {
        var seeds = new[] { 0, 1, 2, 42, -1, int.MaxValue };
        var sequences = seeds.Select(s => string.Join("|", Draw(new RandomSampler(s), EveryKind, 20).Select(Show))).ToList();

        Assert.Equal(seeds.Length, sequences.Distinct().Count());
    }

    [Fact]
    public void Propose_TrialNumbersAskedOutOfOrder_GiveTheSameTrials()
    {
        var inOrder = Draw(new RandomSampler(3), EveryKind, 50);
        var sampler = new RandomSampler(3);

        foreach (var n in Enumerable.Range(0, 50).Reverse().Concat([17, 17, 0]))
        {
            Assert.Equal(inOrder[n], sampler.Propose(new SamplerContext(EveryKind, n)).OrderBy(kv => kv.Key, StringComparer.Ordinal));
        }
    }

    [Fact]
    public void Propose_ConsecutiveTrials_AreNotAllTheSame()
    {
        var lrs = Draw(new RandomSampler(5), EveryKind, 100).Select(p => p.Single(kv => kv.Key == "lr").Value).Distinct();

        Assert.True(lrs.Count() > 95);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(13)]
    [InlineData(42)]
    [InlineData(-7)]
    [InlineData(int.MaxValue)]
    public void Propose_AnySeed_SpreadsTrialsUniformly(int seed)
    {
        const int bins = 60;
        var space = new SearchSpace([new FloatParameter("u", 0, 1, Scale.Linear), new FloatParameter("v", 0, 1, Scale.Linear)]);
        var first = new int[bins];
        var second = new int[bins];

        foreach (var proposal in Draw(new RandomSampler(seed), space, Draws))
        {
            first[(int)(proposal[0].Value.Number * bins)]++;
            second[(int)(proposal[1].Value.Number * bins)]++;
        }

        // 59 degrees of freedom: a uniform draw exceeds 100 about once in a thousand seeds.
        Assert.InRange(ChiSquare(first), 0, 100);
        Assert.InRange(ChiSquare(second), 0, 100);
    }

    [Fact]
    public void Propose_LogScale_SpreadsSamplesEvenlyOverDecades()
    {
        var space = new SearchSpace([new FloatParameter("lr", 1e-4, 1, Scale.Log)]);

        var share = DecadeShares(new RandomSampler(42), space, low: 1e-4, decades: 4);

        Assert.All(share, s => Assert.InRange(s, 0.23, 0.27));
    }

    [Fact]
    public void Propose_LinearScale_PutsNearlyAllSamplesInTheTopDecade()
    {
        var space = new SearchSpace([new FloatParameter("lr", 1e-4, 1, Scale.Linear)]);

        var share = DecadeShares(new RandomSampler(42), space, low: 1e-4, decades: 4);

        Assert.InRange(share[3], 0.88, 0.92);
        Assert.True(share[0] < 0.01);
    }

    [Fact]
    public void Propose_IntLogScale_FavoursNoDecadeMoreThanItsWidth()
    {
        var space = new SearchSpace([new IntParameter("units", 10, 9999, Scale.Log)]);

        var share = DecadeShares(new RandomSampler(42), space, low: 10, decades: 3);

        Assert.All(share, s => Assert.InRange(s, 0.30, 0.37));
    }

    [Theory]
    [InlineData(1, 6, 1, Scale.Linear)]
    [InlineData(16, 256, 16, Scale.Linear)]
    [InlineData(0, 10, 4, Scale.Linear)]
    [InlineData(1, 3, 1, Scale.Log)]
    [InlineData(1, 100, 1, Scale.Log)]
    [InlineData(2, 64, 2, Scale.Log)]
    public void Propose_IntParameter_HitsBothEnds(long low, long high, long step, Scale scale)
    {
        var parameter = new IntParameter("n", low, high, scale, step);
        var last = high - ((high - low) % step);

        var seen = Draw(new RandomSampler(11), new SearchSpace([parameter]), Draws).Select(p => p[0].Value.Number).ToHashSet();

        Assert.Contains(low, seen);
        Assert.Contains(last, seen);
    }

    [Theory]
    [InlineData(1, 6, 1)]
    [InlineData(0, 10, 4)]
    [InlineData(3, 9, 2)]
    public void Propose_IntLinearScale_GivesEveryValueAnEqualShare(long low, long high, long step)
    {
        var parameter = new IntParameter("n", low, high, Scale.Linear, step);
        var values = Enumerable.Range(0, (int)((high - low) / step) + 1).Select(k => (double)(low + (k * step))).ToList();

        var counts = Draw(new RandomSampler(13), new SearchSpace([parameter]), Draws)
            .GroupBy(p => p[0].Value.Number)
            .ToDictionary(g => g.Key, g => g.Count());

        Assert.Equal(values, counts.Keys.Order());
        var expected = (double)Draws / values.Count;
        Assert.All(counts.Values, c => Assert.InRange(c, expected * 0.93, expected * 1.07));
    }

    [Fact]
    public void Propose_Categorical_PicksEveryChoiceAboutEquallyOften()
    {
        var space = new SearchSpace([new CategoricalParameter("size", [ParamValue.Of(32), ParamValue.Of(64), ParamValue.Of(128)])]);

        var counts = Draw(new RandomSampler(17), space, Draws).GroupBy(p => p[0].Value).ToDictionary(g => g.Key, g => g.Count());

        Assert.Equal(3, counts.Count);
        Assert.All(counts.Values, c => Assert.InRange(c, Draws / 3 * 0.94, Draws / 3 * 1.06));
    }

    private static double ChiSquare(int[] counts)
    {
        var expected = (double)counts.Sum() / counts.Length;
        return counts.Sum(c => (c - expected) * (c - expected) / expected);
    }

    private static double[] DecadeShares(RandomSampler sampler, SearchSpace space, double low, int decades)
    {
        var counts = new int[decades];
        foreach (var proposal in Draw(sampler, space, Draws))
        {
            var decade = (int)Math.Floor(Math.Log10(proposal[0].Value.Number / low) + 1e-12);
            counts[Math.Min(decade, decades - 1)]++;
        }

        return counts.Select(c => (double)c / Draws).ToArray();
    }

    private static List<List<KeyValuePair<string, ParamValue>>> Draw(RandomSampler sampler, SearchSpace space, int count) =>
        Enumerable.Range(0, count)
            .Select(n => sampler.Propose(new SamplerContext(space, n)).OrderBy(kv => kv.Key, StringComparer.Ordinal).ToList())
            .ToList();

    private static string Show(List<KeyValuePair<string, ParamValue>> proposal) => string.Join(",", proposal.Select(kv => $"{kv.Key}={kv.Value}"));
}
