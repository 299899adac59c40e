using HyperTune.Shared.Analysis;
using HyperTune.Shared.Studies;

namespace HyperTune.Shared.Tests.Analysis;

public sealed class BestSoFarTests
{
    private static List<ScoredTrial> Trials(params double[] values) =>
        [.. values.Select((v, i) => new ScoredTrial(i + 1, v, new Dictionary<string, SearchSpaces.ParamValue>()))];

    [Fact]
    public void Series_Maximize_KeepsOnlyImprovementsAndTheLastTrial()
    {
        var series = BestSoFar.Series(Trials(0.5, 0.4, 0.7, 0.7, 0.6, 0.9, 0.1, 0.2), Direction.Maximize);

        Assert.Equal([new(1, 0.5), new(3, 0.7), new(6, 0.9), new(8, 0.9)], series);
    }

    [Fact]
    public void Series_Minimize_KeepsOnlyImprovementsAndTheLastTrial()
    {
        var series = BestSoFar.Series(Trials(0.5, 0.4, 0.7, 0.3, 0.3), Direction.Minimize);

        Assert.Equal([new(1, 0.5), new(2, 0.4), new(4, 0.3), new(5, 0.3)], series);
    }

    [Fact]
    public void Series_LastTrialImproves_EndsOnItOnce()
    {
        var series = BestSoFar.Series(Trials(2, 1), Direction.Minimize);

        Assert.Equal([new(1, 2), new(2, 1)], series);
    }

    [Fact]
    public void Series_TrialsOutOfOrderWithNonFiniteValues_FollowsTrialNumbersAndSkipsThem()
    {
        var trials = Trials(0.5, double.NaN, 0.8, double.PositiveInfinity);
        trials.Reverse();

        var series = BestSoFar.Series(trials, Direction.Maximize);

        Assert.Equal([new(1, 0.5), new(3, 0.8)], series);
    }

    [Fact]
    public void Series_TenThousandRandomTrials_StaysSmall()
    {
        var random = new Random(5);

        var series = BestSoFar.Series(Trials([.. Enumerable.Range(0, 10_000).Select(_ => random.NextDouble())]), Direction.Maximize);

        // Records of a random sequence grow like ln(n) ≈ 9.2.
        Assert.InRange(series.Count, 3, 40);
        Assert.Equal(10_000, series[^1].Number);
    }

    [Fact]
    public void Series_NoTrials_IsEmpty() => Assert.Empty(BestSoFar.Series([], Direction.Minimize));
}
