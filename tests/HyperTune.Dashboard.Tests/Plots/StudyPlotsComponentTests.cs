using System.Text.Json;
using Bunit;
using HyperTune.Dashboard.Components.Charts;
using HyperTune.Dashboard.Components.Pages;
using HyperTune.Dashboard.Data;
using HyperTune.Shared.Trials;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor.Services;
using Plotly.Blazor;
using Plotly.Blazor.Interop;
using Plotly.Blazor.Traces;

namespace HyperTune.Dashboard.Tests.Plots;

/// <summary>The study plots' component logic in bUnit (Plotly's own drawing needs a browser: the Chromium test covers it).</summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Reliability", "CA1001", Justification = "xunit disposes it through IAsyncLifetime.DisposeAsync")]
public sealed class StudyPlotsComponentTests : IAsyncLifetime
{
    // MudBlazor's services dispose only asynchronously, which xunit's synchronous disposal of a test class cannot do.
    private readonly BunitContext bunit = new();

    private static readonly string[] Plots = ["plot-best-so-far", "plot-parallel", "plot-slice", "plot-contour", "plot-importance", "budget-gauge"];

    public StudyPlotsComponentTests()
    {
        bunit.JSInterop.Mode = JSRuntimeMode.Loose;
        bunit.Services.AddMudServices();
        bunit.Render<MudBlazor.MudPopoverProvider>();
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await bunit.DisposeAsync();

    private IRenderedComponent<StudyPlots> RenderPlots(IReadOnlyCollection<TrialView> trials) =>
        bunit.Render<StudyPlots>(p => p.Add(c => c.Definition, PlotTrials.Definition).Add(c => c.Trials, trials));

    private static string Count(IRenderedComponent<StudyPlots> plots, string testId) =>
        plots.Find($"[data-testid={testId}]").GetAttribute("data-count")!;

    [Fact]
    public void StudyPlots_NoFinishedTrial_SaysInWordsWhatEachPlotNeeds()
    {
        var plots = RenderPlots([PlotTrials.Trial(1, TrialState.Running, 0.7), PlotTrials.Trial(2, TrialState.Queued, null)]);

        Assert.All(Plots, id => Assert.Equal("0", Count(plots, id)));
        Assert.Contains("Needs 1 finished trial: each trial's val_accuracy appears here", plots.Find("[data-testid=plot-best-so-far]").TextContent, StringComparison.Ordinal);
        Assert.Contains("Needs 2 finished trials (has 0)", plots.Find("[data-testid=plot-parallel]").TextContent, StringComparison.Ordinal);
        Assert.Contains("Needs 2 finished trials (has 0)", plots.Find("[data-testid=plot-slice]").TextContent, StringComparison.Ordinal);
        Assert.Contains("Needs 3 finished trials with both lr and dropout (has 0)", plots.Find("[data-testid=plot-contour]").TextContent, StringComparison.Ordinal);
        Assert.Contains("Needs 5 finished trials (has 0)", plots.Find("[data-testid=plot-importance]").TextContent, StringComparison.Ordinal);
        Assert.Contains("Needs 1 finished trial.", plots.Find("[data-testid=budget-gauge]").TextContent, StringComparison.Ordinal);
        Assert.Empty(plots.FindComponents<PlotlyChart>());
    }

    [Fact]
    public void StudyPlots_MixedTrials_DrawsOnlyFinishedTrainingTrialsWithAValue()
    {
        var plots = RenderPlots(
        [
            .. PlotTrials.Completed(3),
            PlotTrials.Trial(4, TrialState.Running, 0.9),
            PlotTrials.Trial(5, TrialState.Completed, 0.9, TrialKind.LrRangeTest),
            PlotTrials.Trial(6, TrialState.Diverged, double.NaN),
        ]);

        // The contour is interpolated off the render thread, so it may come a moment later.
        plots.WaitForAssertion(() => Assert.All(
            Plots.Where(id => id != "plot-importance"),
            id => Assert.Equal("3", Count(plots, id))), TimeSpan.FromSeconds(30));

        Assert.Contains("Needs 5 finished trials (has 3)", plots.Find("[data-testid=plot-importance]").TextContent, StringComparison.Ordinal);
        var best = (Scatter)plots.FindComponents<PlotlyChart>().Single(c => c.Instance.Id == "plot-best-so-far-chart").Instance.Data[1];
        Assert.Equal([1, 2, 3], best.X.Cast<int>());
    }

    [Theory]
    [InlineData(3, 1)]
    [InlineData(20, 1)]
    [InlineData(21, null)]
    public void StudyPlots_BestSoFar_LabelsEveryTrialNumberOnlyWhileTheyFit(int trials, int? step)
    {
        var plots = RenderPlots(PlotTrials.Completed(trials));

        var chart = plots.FindComponents<PlotlyChart>().Single(c => c.Instance.Id == "plot-best-so-far-chart").Instance;
        Assert.Equal(step, (int?)chart.Layout.XAxis[0].DTick);
    }

    [Fact]
    public void StudyPlots_ThousandsOfTrials_DrawsTheSampleAsSvgAndSaysSo()
    {
        var plots = RenderPlots(PlotTrials.Completed(2_400));

        Assert.Equal("1,000 of 2,400 trials drawn: the best 250 and an even spread of the rest; the best-so-far line, the contour surface and the importance use every trial.",
            plots.Find("[data-testid=plots-sample-note]").TextContent);
        Assert.Equal("1000", Count(plots, "plot-parallel"));
        var charts = plots.FindComponents<PlotlyChart>().ToDictionary(c => c.Instance.Id!, c => c.Instance.Data);
        var trialsDrawn = Assert.IsType<Scatter>(charts["plot-best-so-far-chart"][0]);
        Assert.Equal(1_000, trialsDrawn.X.Count);
        Assert.All(charts["plot-slice-chart"], trace => Assert.Equal(1_000, Assert.IsType<Scatter>(trace).X.Count));
    }

    [Fact]
    public void StudyPlots_NotToDrawYet_ShowsProgressUntilTheParentSaysSo()
    {
        var plots = bunit.Render<StudyPlots>(p => p.Add(c => c.Definition, PlotTrials.Definition).Add(c => c.Trials, PlotTrials.Completed(3)).Add(c => c.Draw, false));

        Assert.Empty(plots.FindComponents<PlotlyChart>());
        Assert.NotNull(plots.Find(".mud-progress-linear"));

        plots.Render(p => p.Add(c => c.Draw, true));

        Assert.Equal("3", Count(plots, "plot-parallel"));
        Assert.NotEmpty(plots.FindComponents<PlotlyChart>());
    }

    [Fact]
    public void StudyPlots_ParentRendersAgainWithNoNewFinishedTrial_DoesNotRebuild()
    {
        var trials = PlotTrials.Completed(3);
        var plots = RenderPlots(trials);

        plots.Render(p => p.Add(c => c.Trials, [.. trials, PlotTrials.Trial(4, TrialState.Running, 0.8)]));

        Assert.Equal(0, plots.Instance.Rebuilds);
    }

    [Fact]
    public void StudyPlots_TrialFinishesAfterOpening_RebuildsAndCountsIt()
    {
        var trials = PlotTrials.Completed(6);
        var plots = RenderPlots(trials);

        plots.Render(p => p.Add(c => c.Trials, [.. trials, .. PlotTrials.Completed(1, first: 7)]));

        plots.WaitForAssertion(() => Assert.All(Plots, id => Assert.Equal("7", Count(plots, id))), TimeSpan.FromSeconds(30));
        Assert.Equal(1, plots.Instance.Rebuilds);
    }

    [Fact]
    public void StudyPlots_FiveFinishedTrials_ShowsTheImportanceOfEveryParameterOffTheRenderThread()
    {
        var plots = RenderPlots(PlotTrials.Completed(12));

        plots.WaitForAssertion(() => Assert.Equal("12", Count(plots, "plot-importance")), TimeSpan.FromSeconds(30));
        var bars = (Bar)plots.FindComponents<PlotlyChart>().Single(c => c.Instance.Id == "plot-importance-chart").Instance.Data[0];
        Assert.Equal(["dropout", "lr", "optimizer"], bars.Y.Cast<string>().Order());
        Assert.Contains("random forest of 12 finished trials", plots.Find("[data-testid=importance-caption]").TextContent, StringComparison.Ordinal);
    }

    [Fact]
    public void ContourPlot_YSelectorPicksTheCategorical_RedrawsOverItsChoices()
    {
        var plots = RenderPlots(PlotTrials.Completed(8));
        var contour = plots.FindComponent<ContourPlot>();
        contour.WaitForAssertion(() => Assert.Equal("8", contour.Find("[data-testid=plot-contour]").GetAttribute("data-count")), TimeSpan.FromSeconds(30));
        Assert.Equal(("lr", "dropout"), (contour.Find("[data-testid=plot-contour]").GetAttribute("data-x"), contour.Find("[data-testid=plot-contour]").GetAttribute("data-y")));

        var select = contour.FindComponents<MudBlazor.MudSelect<string>>()[1];
        contour.InvokeAsync(() => select.Instance.ValueChanged.InvokeAsync("optimizer"));

        contour.WaitForAssertion(() =>
        {
            Assert.Equal("optimizer", contour.Find("[data-testid=plot-contour]").GetAttribute("data-y"));
            Assert.Equal(["sgd", "adam"], contour.FindComponent<PlotlyChart>().Instance.Layout.YAxis[0].TickText.Cast<string>());
        }, TimeSpan.FromSeconds(30));
    }

    [Fact]
    public void ParallelCoordinates_RangeDraggedOnAnAxis_IsKeptWhenTrialsAreAdded()
    {
        var first = StudyPlotData.Build(PlotTrials.Definition, StudyPlotData.Plottable(PlotTrials.Completed(4)));
        var chart = bunit.Render<ParallelCoordinatesChart>(p => p.Add(c => c.Data, first));

        chart.Instance.OnRestyle(new RestyleEventData
        {
            Changes = new Dictionary<string, JsonElement> { ["dimensions[1].constraintrange"] = Json("[0.1, 0.3]") },
            Indices = [0],
        });
        chart.Render(p => p.Add(c => c.Data, StudyPlotData.Build(PlotTrials.Definition, StudyPlotData.Plottable(PlotTrials.Completed(6)))));

        var parcoords = (ParCoords)chart.FindComponent<PlotlyChart>().Instance.Data[0];
        Assert.Equal("dropout", parcoords.Dimensions[1].Name);
        Assert.Equal([0.1, 0.3], parcoords.Dimensions[1].ConstraintRange.Cast<double>());
        Assert.Null(parcoords.Dimensions[0].ConstraintRange);
        Assert.Equal(6, parcoords.Dimensions[0].Values.Count);
        Assert.Equal(["0.0001", "0.001", "0.01", "0.1"], parcoords.Dimensions[0].TickText.Cast<string>());
    }

    [Fact]
    public void ParallelCoordinates_RangeCleared_IsForgotten()
    {
        var data = StudyPlotData.Build(PlotTrials.Definition, StudyPlotData.Plottable(PlotTrials.Completed(4)));
        var chart = bunit.Render<ParallelCoordinatesChart>(p => p.Add(c => c.Data, data));
        chart.Instance.OnRestyle(new RestyleEventData { Changes = new Dictionary<string, JsonElement> { ["dimensions[3].constraintrange"] = Json("[[0.5, 0.52], [0.55, 0.6]]") } });
        Assert.Equal(2, chart.Instance.Constraints["val_accuracy"].Count);

        chart.Instance.OnRestyle(new RestyleEventData { Changes = new Dictionary<string, JsonElement> { ["dimensions[3].constraintrange"] = Json("null") } });

        Assert.Empty(chart.Instance.Constraints);
    }

    private static JsonElement Json(string json) => JsonDocument.Parse(json).RootElement;

    [Fact]
    public void BudgetGauge_FiftyNineTrials_SaysTheNinetyFivePercentMarkIsPassed()
    {
        var gauge = bunit.Render<BudgetGauge>(p => p.Add(c => c.Trials, 59));

        Assert.Equal("0.9515", gauge.Find("[data-testid=budget-gauge]").GetAttribute("data-chance"));
        Assert.Contains("past the 95 % mark, which 59 random trials reach", gauge.Markup, StringComparison.Ordinal);
    }
}
