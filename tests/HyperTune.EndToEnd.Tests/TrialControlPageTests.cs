using HyperTune.Protos.V1;
using HyperTune.TestSupport;
using Microsoft.Playwright;

namespace HyperTune.EndToEnd.Tests;

/// <summary>The new-study form, Stop and Clone in real Chromium, against a scripted agent (a test double) that answers on cue.</summary>
public sealed class TrialControlPageTests
{
    [Fact]
    public async Task NewStudyForm_WithZeroLowOnLogScale_ShowsTheFieldErrorAndCreatesNothing()
    {
        await using var dashboard = await RunningDashboard.StartAsync();
        await using var browser = await Browser.LaunchAsync();
        await browser.OpenAsync(new Uri(dashboard.WebUri, "/studies/new").ToString(), "[data-testid=create-study]");

        await browser.Page.Locator("[data-testid=space-low-0]").FillAsync("0");
        await browser.Page.Locator("[data-testid=create-study]").ClickAsync();
        await Assertions.Expect(browser.Page.Locator("[data-testid=spec-errors]")).ToContainTextAsync("space.lr.low must be > 0 for a log scale, got 0");
        await Assertions.Expect(browser.Page.Locator("[data-testid=space-low-0]")).ToHaveAttributeAsync("aria-invalid", "true");
        await browser.ScreenshotAsync("new-study-errors");
        await browser.ScreenshotAsync("new-study-errors");
        Assert.Equal(0, (await dashboard.GetJsonAsync("/api/studies")).GetArrayLength());
    }

    [Fact]
    public async Task StudyPage_StopThenCloneWithEdit_StopsTrialAndRunsTheEditedClone()
    {
        await using var dashboard = await RunningDashboard.StartAsync();
        await using var agent = await ScriptedAgent.ConnectAsync(dashboard.GrpcUri, RunningDashboard.Token, slots: 1);
        await using var browser = await Browser.LaunchAsync();
        await browser.OpenAsync(new Uri(dashboard.WebUri, "/studies/new").ToString(), "[data-testid=create-study]");
        await browser.Page.Locator("[data-testid=study-name]").FillAsync("form-made");
        await browser.Page.Locator("[data-testid=study-trials]").FillAsync("1");
        await browser.Page.Locator("[data-testid=study-parallel]").FillAsync("1");
        await browser.Page.Locator("[data-testid=create-study]").ClickAsync();
        var start = (await agent.NextAsync(HubMessage.KindOneofCase.StartTrial)).StartTrial;
        await browser.Page.Locator("[data-testid=learning-curves]").WaitForAsync();
        await agent.ReportAsync(start.TrialId, start.Attempt, 1, 1, new Dictionary<string, double> { ["val_accuracy"] = 0.6 });
        await Assertions.Expect(browser.Page.Locator("[data-testid=learning-curves]")).ToHaveAttributeAsync("data-points", "1");

        await browser.Page.Locator("[data-testid=stop-trial][data-trial='1']").ClickAsync();
        var stop = (await agent.NextAsync(HubMessage.KindOneofCase.StopTrial)).StopTrial;
        await agent.FinishAsync(stop.TrialId, stop.Attempt, 2, TrialOutcome.Stopped, stop.Reason);
        await Assertions.Expect(browser.Page.Locator("[data-testid=trial-state][data-trial='1']")).ToContainTextAsync("stopped");

        await browser.Page.Locator("[data-testid=clone-trial][data-trial='1']").ClickAsync();
        await browser.Page.Locator("[data-testid=clone-param-lr]").FillAsync("0.0321");
        await browser.ScreenshotAsync("clone-dialog");
        await browser.Page.Locator("[data-testid=clone-launch]").ClickAsync();
        var cloneStart = (await agent.NextAsync(HubMessage.KindOneofCase.StartTrial)).StartTrial;
        await Assertions.Expect(browser.Page.Locator("[data-testid=trial-state][data-trial='2']")).ToContainTextAsync("running");
        await browser.ScreenshotAsync("study-after-clone");

        Assert.Equal(0.0321, cloneStart.Params["lr"].Number);
        Assert.Equal(start.Params["batch_size"].Number, cloneStart.Params["batch_size"].Number);
        Assert.Equal("form-made", (await dashboard.GetJsonAsync("/api/studies"))[0].GetProperty("name").GetString());
    }

    [Fact]
    public async Task StudyPage_ProposedStage_IsEditedAndStartedFromTheStagesPanel()
    {
        await using var dashboard = await RunningDashboard.StartAsync();
        await using var agent = await ScriptedAgent.ConnectAsync(dashboard.GrpcUri, RunningDashboard.Token, slots: 2);
        var studyId = await dashboard.CreateStudyAsync("""
            { "name": "stages", "workload": "fashion-mnist-cnn",
              "objective": { "metric": "val_accuracy", "direction": "maximize" },
              "sampler": { "type": "coarse-to-fine", "seed": 4, "stages": [2, 1], "auto": false },
              "budget": { "trials": 3, "parallel": 2 },
              "space": { "lr": { "type": "float", "low": 0.0001, "high": 1, "scale": "log" } } }
            """);
        await using var browser = await Browser.LaunchAsync();
        await browser.OpenAsync(new Uri(dashboard.WebUri, $"/studies/{studyId}").ToString(), "[data-testid=stages-panel]");

        for (var i = 0; i < 2; i++)
        {
            var start = (await agent.NextAsync(HubMessage.KindOneofCase.StartTrial)).StartTrial;
            await agent.ReportAsync(start.TrialId, start.Attempt, 1, 1, new Dictionary<string, double> { ["val_accuracy"] = 0.5 + (0.1 * i) });
            await agent.FinishAsync(start.TrialId, start.Attempt, 2, TrialOutcome.Completed);
        }

        await Assertions.Expect(browser.Page.Locator("[data-testid=stage-state][data-stage='2']")).ToContainTextAsync("proposed");
        await browser.Page.Locator("[data-testid=stage-low-0]").FillAsync("0.003");
        await browser.Page.Locator("[data-testid=stage-high-0]").FillAsync("0.004");
        await browser.ScreenshotAsync("stage-proposed");
        await browser.Page.Locator("[data-testid=start-stage]").ClickAsync();
        var next = (await agent.NextAsync(HubMessage.KindOneofCase.StartTrial)).StartTrial;
        await Assertions.Expect(browser.Page.Locator("[data-testid=stage-state][data-stage='2']")).ToContainTextAsync("running");
        await browser.ScreenshotAsync("stage-running");

        Assert.InRange(next.Params["lr"].Number, 0.003, 0.004);
    }

    [Fact]
    public async Task NewStudyForm_WithOnlyWhenCondition_SendsTheParameterOnlyWhenItHolds()
    {
        await using var dashboard = await RunningDashboard.StartAsync();
        await using var agent = await ScriptedAgent.ConnectAsync(dashboard.GrpcUri, RunningDashboard.Token, slots: 8);
        await using var browser = await Browser.LaunchAsync();
        await browser.OpenAsync(new Uri(dashboard.WebUri, "/studies/new").ToString(), "[data-testid=create-study]");
        await browser.Page.Locator("[data-testid=study-parallel]").FillAsync("8");

        // Seed 42 draws batch size 64 for some of the 8 trials and not for others.
        await browser.Page.Locator("[data-testid=study-seed]").FillAsync("42");

        await browser.Page.Locator("[data-testid=space-when-1]").FillAsync("batch_sise=64");
        await browser.Page.Locator("[data-testid=create-study]").ClickAsync();
        await Assertions.Expect(browser.Page.Locator("[data-testid=spec-errors]")).ToContainTextAsync("space.momentum.when.batch_sise names no parameter");
        await browser.Page.Locator("[data-testid=space-when-1]").FillAsync("batch_size=64");
        await browser.Page.Locator("[data-testid=create-study]").ClickAsync();

        var starts = new List<StartTrial>();
        for (var i = 0; i < 8; i++)
        {
            starts.Add((await agent.NextAsync(HubMessage.KindOneofCase.StartTrial)).StartTrial);
        }

        Assert.All(starts, s => Assert.Equal(s.Params["batch_size"].Number == 64, s.Params.ContainsKey("momentum")));
        Assert.Contains(starts, s => s.Params.ContainsKey("momentum"));
        Assert.Contains(starts, s => !s.Params.ContainsKey("momentum"));
    }
}
