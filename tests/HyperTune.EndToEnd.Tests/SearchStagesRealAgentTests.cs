using HyperTune.TestSupport;
using Microsoft.Playwright;

namespace HyperTune.EndToEnd.Tests;

/// <summary>The search engine's stages on the real agent: an LR range test, then two coarse-to-fine stages, watched in Chromium.</summary>
public sealed class SearchStagesRealAgentTests
{
    private const string Spec = """
        { "name": "range-then-c2f", "workload": "fashion-mnist-mlp",
          "objective": { "metric": "val_accuracy", "direction": "maximize" },
          "sampler": { "type": "coarse-to-fine", "seed": 5, "stages": [3, 2], "auto": true },
          "lr_range_test": { "min_lr": 1e-5, "max_lr": 10, "steps": 80, "auto": true },
          "budget": { "trials": 5, "parallel": 1 },
          "fixed": { "epochs": 1, "train_samples": 1000, "val_samples": 500, "batch_size": 32 },
          "space": { "lr": { "type": "float", "low": 0.0001, "high": 1, "scale": "log" },
                     "hidden_units": { "type": "int", "low": 32, "high": 256, "scale": "log" } } }
        """;

    [Fact]
    public async Task LrRangeTestThenTwoCoarseToFineStages_OnTheRealAgent_SearchInsideTheProposedAndZoomedBounds()
    {
        await using var dashboard = await RunningDashboard.StartAsync();
        await using var browser = await Browser.LaunchAsync();
        var studyId = await dashboard.CreateStudyAsync(Spec);
        await browser.OpenAsync(new Uri(dashboard.WebUri, $"/studies/{studyId}").ToString(), "[data-testid=lr-range-test]");
        await using var agent = await RunningAgent.StartAsync(dashboard);

        // The range test's steps arrive live on the open page, then its proposal sentence.
        await Assertions.Expect(browser.Page.Locator("[data-testid=lr-range-test]"))
            .Not.ToHaveAttributeAsync("data-points", "0", new() { Timeout = 120_000 });
        var trials = await dashboard.WaitForTrialsAsync(studyId,
            t => t.GetArrayLength() == 6 && t.EnumerateArray().All(x => x.GetProperty("state").GetString() is "completed" or "failed"),
            TimeSpan.FromMinutes(5));
        await Assertions.Expect(browser.Page.Locator("[data-testid=lr-range-sentence]")).ToContainTextAsync("proposed lr [");
        await browser.ScreenshotAsync("lr-range-test-then-c2f");

        var test = await dashboard.GetJsonAsync($"/api/studies/{studyId}/lr-range-test");
        var stages = await dashboard.GetJsonAsync($"/api/studies/{studyId}/stages");
        Assert.All(trials.EnumerateArray(), t => Assert.Equal("completed", t.GetProperty("state").GetString()));
        Assert.Equal("lr_range_test", trials[0].GetProperty("kind").GetString());
        Assert.InRange(test.GetProperty("steps").GetArrayLength(), 20, 80);
        Assert.Equal(["lr_range_test", "search", "search"], stages.EnumerateArray().Select(s => s.GetProperty("kind").GetString()));
        Assert.Equal([1, 3, 2], stages.EnumerateArray().Select(s => s.GetProperty("trials").GetInt32()));

        // Stage 2 searches the proposed lr range; stage 3 zooms inside stage 2's space.
        var proposed = stages[1].GetProperty("space").GetProperty("lr");
        var zoomed = stages[2].GetProperty("space").GetProperty("lr");
        Assert.Equal(test.GetProperty("proposal").GetProperty("high").GetDouble(), proposed.GetProperty("high").GetDouble());
        Assert.InRange(zoomed.GetProperty("low").GetDouble(), proposed.GetProperty("low").GetDouble(), proposed.GetProperty("high").GetDouble());
        Assert.InRange(zoomed.GetProperty("high").GetDouble(), proposed.GetProperty("low").GetDouble(), proposed.GetProperty("high").GetDouble());
        foreach (var trial in trials.EnumerateArray().Skip(1))
        {
            var space = stages[trial.GetProperty("stage").GetInt32() - 1].GetProperty("space").GetProperty("lr");
            Assert.InRange(trial.GetProperty("params").GetProperty("lr").GetDouble(), space.GetProperty("low").GetDouble(), space.GetProperty("high").GetDouble());
        }
    }
}
