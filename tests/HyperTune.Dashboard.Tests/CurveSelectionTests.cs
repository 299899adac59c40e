using HyperTune.Dashboard.Data;
using HyperTune.Dashboard.Studies;
using HyperTune.Shared.Studies;
using HyperTune.Shared.Trials;

namespace HyperTune.Dashboard.Tests;

public sealed class CurveSelectionTests
{
    private static readonly Objective Accuracy = new("val_accuracy", Direction.Maximize);

    private static TrialView Trial(int number, TrialState state, double? best, TrialKind kind = TrialKind.Training) =>
        new(number, 1, number, state, new Dictionary<string, HyperTune.Shared.SearchSpaces.ParamValue>(), 1, null, null, null, 1, best, best,
            DateTimeOffset.UnixEpoch, null, null, Kind: kind);

    [Fact]
    public void Choose_ManyFinishedTrials_TakesRunningThenTheBestUpToMaxInNumberOrder()
    {
        var trials = Enumerable.Range(1, 1_000).Select(n => Trial(n, TrialState.Completed, n / 1000.0))
            .Append(Trial(1_001, TrialState.Running, 0.01)).Append(Trial(1_002, TrialState.Running, null)).ToList();

        var chosen = CurveSelection.Choose(trials, Accuracy, 10);

        Assert.Equal([993, 994, 995, 996, 997, 998, 999, 1_000, 1_001, 1_002], chosen.Select(t => t.Number));
    }

    [Fact]
    public void Choose_Minimize_TakesTheLowest()
    {
        var trials = Enumerable.Range(1, 100).Select(n => Trial(n, TrialState.Completed, n)).ToList();

        var chosen = CurveSelection.Choose(trials, Accuracy with { Direction = Direction.Minimize }, 3);

        Assert.Equal([1, 2, 3], chosen.Select(t => t.Number));
    }

    [Fact]
    public void Choose_PickedTrial_IsDrawnEvenWhenItIsAmongTheWorst()
    {
        var trials = Enumerable.Range(1, 100).Select(n => Trial(n, TrialState.Completed, n)).ToList();

        var chosen = CurveSelection.Choose(trials, Accuracy, 3, new HashSet<long> { 2 });

        Assert.Equal([2, 99, 100], chosen.Select(t => t.Number));
    }

    [Fact]
    public void Choose_RangeTestAndTrialsWithoutValues_AreLeftOutUnlessRunning()
    {
        var trials = new[]
        {
            Trial(1, TrialState.Completed, null, TrialKind.LrRangeTest),
            Trial(2, TrialState.Failed, null),
            Trial(3, TrialState.Completed, 0.5),
        };

        var chosen = CurveSelection.Choose(trials, Accuracy, 10);

        Assert.Equal([3], chosen.Select(t => t.Number));
    }
}
