using HyperTune.Shared.Analysis;
using HyperTune.Shared.SearchSpaces;
using HyperTune.Shared.Studies;

namespace HyperTune.Shared.Tests.Analysis;

public sealed class TrialSampleTests
{
    private static readonly IReadOnlyDictionary<string, ParamValue> NoParams = new Dictionary<string, ParamValue>();

    // Value rises and falls with the number, so the best trials sit in the middle and not at a stride's positions.
    private static List<ScoredTrial> Trials(int n) =>
        [.. Enumerable.Range(1, n).Select(i => new ScoredTrial(i, Math.Sin(i * 0.37) + (i % 7 * 0.01), NoParams))];

    [Fact]
    public void Choose_TrialsThatFit_ComeBackUnchanged()
    {
        var trials = Trials(300);

        Assert.Same(trials, TrialSample.Choose(trials, Direction.Maximize, 1_000));
    }

    [Theory]
    [InlineData(Direction.Maximize)]
    [InlineData(Direction.Minimize)]
    public void Choose_ManyTrials_KeepsTheBestQuarterAndAnEvenSpreadInNumberOrder(Direction direction)
    {
        var trials = Trials(10_000);

        var sample = TrialSample.Choose(trials, direction, 1_000);

        Assert.Equal(1_000, sample.Count);
        Assert.True(sample.Zip(sample.Skip(1)).All(p => p.First.Number < p.Second.Number));
        var ranked = direction == Direction.Maximize ? trials.OrderByDescending(t => t.Value) : trials.OrderBy(t => t.Value);
        var kept = sample.Select(t => t.Number).ToHashSet();
        Assert.All(ranked.ThenBy(t => t.Number).Take(250), best => Assert.Contains(best.Number, kept));
        Assert.Contains(1, kept);
        Assert.Contains(10_000, kept);

        // The spread leaves no long run of numbers unsampled: every tenth of the study is drawn.
        Assert.All(Enumerable.Range(0, 10), tenth => Assert.Contains(sample, t => (t.Number - 1) / 1_000 == tenth));
    }

    [Fact]
    public void Choose_SameTrials_GivesTheSameSample()
    {
        var first = TrialSample.Choose(Trials(5_000), Direction.Minimize, 400).Select(t => t.Number);
        var second = TrialSample.Choose(Trials(5_000), Direction.Minimize, 400).Select(t => t.Number);

        Assert.Equal(first, second);
    }

    [Fact]
    public void Choose_MaxBelowFour_NamesTheArgument()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => TrialSample.Choose(Trials(10), Direction.Maximize, 3));

        Assert.Equal("max", error.ParamName);
    }
}
