using HyperTune.Protos.V1;
using HyperTune.TestSupport;
using Microsoft.Playwright;

namespace HyperTune.EndToEnd.Tests;

/// <summary>The study page's analysis plots in real Chromium, fed by a scripted agent (a test double) that finishes trials on cue.</summary>
public sealed class StudyPlotsPageTests
{
    private const string Spec = """
        { "name": "plots", "workload": "fashion-mnist-cnn",
          "objective": { "metric": "val_accuracy", "direction": "maximize" },
          "sampler": { "type": "random", "seed": 5 },
          "budget": { "trials": 7, "parallel": 7 },
          "fixed": { "epochs": 1 },
          "space": { "lr": { "type": "float", "low": 0.0001, "high": 0.3, "scale": "log" },
                     "dropout": { "type": "float", "low": 0.0, "high": 0.5 },
                     "optimizer": { "type": "categorical", "choices": ["sgd", "adam"] } } }
        """;

    private static readonly string[] Plots = ["plot-best-so-far", "plot-parallel", "plot-slice", "plot-contour", "plot-importance", "budget-gauge"];

    [Fact]
    public async Task StudyPage_WhenTrialsFinish_DrawsEveryPlotAndCountsTheNewTrialWithoutReload()
    {
        await using var dashboard = await RunningDashboard.StartAsync();
        await using var agent = await ScriptedAgent.ConnectAsync(dashboard.GrpcUri, RunningDashboard.Token, slots: 7);
        var studyId = await dashboard.CreateStudyAsync(Spec);
        var starts = new List<StartTrial>();
        for (var i = 0; i < 7; i++)
        {
            starts.Add((await agent.NextAsync(HubMessage.KindOneofCase.StartTrial)).StartTrial);
        }

        foreach (var start in starts.Take(6))
        {
            await FinishAsync(agent, start);
        }

        await using var browser = await Browser.LaunchAsync();
        await browser.OpenAsync(new Uri(dashboard.WebUri, $"/studies/{studyId}").ToString(), "[data-testid=study-plots]");
        await browser.Page.EvaluateAsync("() => window.__notReloaded = true");
        foreach (var plot in Plots)
        {
            await Assertions.Expect(browser.Page.Locator($"[data-testid={plot}]")).ToHaveAttributeAsync("data-count", "6");
        }

        // Parallel coordinates (WebGL) are drawn once scrolled into view.
        await browser.Page.Locator("[data-testid=plot-parallel]").ScrollIntoViewIfNeededAsync();
        await Assertions.Expect(browser.Page.Locator("#plot-parallel-chart .parcoords")).ToHaveCountAsync(1);
        await Assertions.Expect(browser.Page.Locator("#plot-contour-chart .contourlayer")).ToHaveCountAsync(1);
        await Assertions.Expect(browser.Page.Locator("#plot-importance-chart .bars .point")).ToHaveCountAsync(3);
        await Assertions.Expect(browser.Page.Locator("#plot-slice-chart .cartesianlayer .subplot")).ToHaveCountAsync(3);
        await browser.ScreenshotAsync("study-plots");

        await FinishAsync(agent, starts[6]);

        foreach (var plot in Plots)
        {
            await Assertions.Expect(browser.Page.Locator($"[data-testid={plot}]")).ToHaveAttributeAsync("data-count", "7");
        }

        Assert.True(await browser.Page.EvaluateAsync<bool>("() => window.__notReloaded === true"));
        await browser.ScreenshotAsync("study-plots-live");
    }

    // One epoch whose accuracy peaks at lr = 0.01 and prefers adam, then the trial completes.
    private static async Task FinishAsync(ScriptedAgent agent, StartTrial start)
    {
        var lr = start.Params["lr"].Number;
        var accuracy = 0.9 - (0.1 * Math.Pow(Math.Log10(lr) + 2, 2)) - (start.Params["optimizer"].Text == "sgd" ? 0.05 : 0);
        await agent.ReportAsync(start.TrialId, start.Attempt, 1, 1, new Dictionary<string, double> { ["val_accuracy"] = accuracy });
        await agent.FinishAsync(start.TrialId, start.Attempt, 2, TrialOutcome.Completed);
    }
}
