using HyperTune.Dashboard.Components.Charts;
using HyperTune.Shared.Trials;

namespace HyperTune.Dashboard.Tests.Plots;

public sealed class StudyPlotDataTests
{
    [Fact]
    public void Plottable_MixedTrials_KeepsOnlyFinishedTrainingTrialsWithAFiniteValueInNumberOrder()
    {
        var trials = new[]
        {
            PlotTrials.Trial(4, TrialState.Pruned, 0.4),
            PlotTrials.Trial(1, TrialState.Completed, 0.7),
            PlotTrials.Trial(2, TrialState.Running, 0.9),
            PlotTrials.Trial(3, TrialState.Completed, 0.8, TrialKind.LrRangeTest),
            PlotTrials.Trial(5, TrialState.Diverged, double.NaN),
            PlotTrials.Trial(6, TrialState.Failed, null),
        };

        var plotted = StudyPlotData.Plottable(trials);

        Assert.Equal([1, 4], plotted.Select(t => t.Number));
        Assert.Equal([0.7, 0.4], plotted.Select(t => t.Value));
    }

    [Fact]
    public void Fingerprint_RunningTrialReportsAnEpoch_StaysTheSame()
    {
        var trials = PlotTrials.Completed(3);
        var before = StudyPlotData.Fingerprint([.. trials, PlotTrials.Trial(9, TrialState.Running, 0.5)]);

        var after = StudyPlotData.Fingerprint([.. trials, PlotTrials.Trial(9, TrialState.Running, 0.6)]);

        Assert.Equal(before, after);
    }

    [Fact]
    public void Fingerprint_TrialFinishes_Changes()
    {
        var trials = PlotTrials.Completed(3);

        Assert.NotEqual(
            StudyPlotData.Fingerprint([.. trials, PlotTrials.Trial(9, TrialState.Running, 0.5)]),
            StudyPlotData.Fingerprint([.. trials, PlotTrials.Trial(9, TrialState.Completed, 0.5)]));
    }

    [Fact]
    public void AppendedSince_OnlyNewTrials_ReturnsThem()
    {
        var drawn = Build(PlotTrials.Completed(4));

        var appended = Build(PlotTrials.Completed(6)).AppendedSince(drawn);

        Assert.Equal([5, 6], appended!.Select(t => t.Number));
    }

    [Fact]
    public void Build_MoreTrialsThanASampleHolds_SamplesTheDrawnTrialsAndAppendsNothing()
    {
        var drawn = Build(PlotTrials.Completed(1_500));
        var more = Build(PlotTrials.Completed(1_501));

        Assert.True(more.IsSampled);
        Assert.Equal(1_501, more.Trials.Count);
        Assert.Equal(1_000, more.Sample.Count);
        Assert.Equal("1,000 of 1,501 trials drawn: the best 250 and an even spread of the rest", more.SampleNote);
        Assert.Null(more.AppendedSince(drawn));
        Assert.Null(Build(PlotTrials.Completed(6)).SampleNote);
    }

    [Fact]
    public void AppendedSince_ADrawnTrialChangedValue_IsNull()
    {
        var trials = PlotTrials.Completed(4);
        var drawn = Build(trials);
        trials[1] = trials[1] with { BestValue = 0.99 };

        Assert.Null(Build([.. trials, .. PlotTrials.Completed(1, first: 5)]).AppendedSince(drawn));
    }

    [Fact]
    public void AppendedSince_NewTrialWidensAnAxis_IsNull()
    {
        var trials = PlotTrials.Completed(4);
        var drawn = Build(trials);

        // A clone edited to lr = 3, above the space's 0.3, moves the lr axis' end.
        Assert.Null(Build([.. trials, PlotTrials.Trial(5, TrialState.Completed, 0.6, lr: 3)]).AppendedSince(drawn));
    }

    [Fact]
    public void Build_Trials_HasOneAxisPerSearchedParameterAndTheBestSoFarSteps()
    {
        var data = Build(PlotTrials.Completed(8));

        Assert.Equal(["lr", "dropout", "optimizer"], data.Axes.Select(a => a.Name));
        Assert.Equal(0.56, data.BestSoFar[^2].Value, 9);
        Assert.Equal(8, data.BestSoFar[^1].Number);
    }

    private static StudyPlotData Build(IEnumerable<Data.TrialView> trials) =>
        StudyPlotData.Build(PlotTrials.Definition, StudyPlotData.Plottable(trials));
}
