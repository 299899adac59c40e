using System.Net;
using HyperTune.Dashboard.Components.Charts;
using HyperTune.TestSupport;

namespace HyperTune.Dashboard.Tests.Plots;

public sealed class PlotlyScriptTests
{
    [Fact]
    public async Task GetPlotlyBlazorScript_ServesTheDashboardsSmallerBuild()
    {
        await using var dashboard = await RunningDashboard.StartAsync();

        using var asked = await dashboard.Http.GetAsync("/_content/Plotly.Blazor/plotly-3.7.0.min.js");
        using var own = await dashboard.Http.GetAsync("/lib/plotly-hypertune.min.js");
        var script = await asked.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, asked.StatusCode);
        Assert.Equal(await own.Content.ReadAsStringAsync(), script);
        // Plotly.Blazor's full bundle is 4.8 MB; that its traces draw is for the pages' end-to-end tests to show.
        Assert.InRange(script.Length, 100_000, 2_500_000);
    }

    [Theory]
    [InlineData("/studies/12", true)]
    [InlineData("/studies/12/compare", true)]
    [InlineData("/studies", false)]
    [InlineData("/studies/new", false)]
    [InlineData("/", false)]
    [InlineData("/agents", false)]
    public void DrawsPlots_ForAPath_IsTrueOnlyForTheStudyAndComparePages(string path, bool expected) =>
        Assert.Equal(expected, PlotlyScript.DrawsPlots(path));
}
