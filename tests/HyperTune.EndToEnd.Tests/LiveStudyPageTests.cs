using HyperTune.Protos.V1;
using HyperTune.TestSupport;
using Microsoft.Playwright;

namespace HyperTune.EndToEnd.Tests;

/// <summary>The study page in real Chromium, fed by a scripted agent (a test double) so each epoch arrives when the test says.</summary>
public sealed class LiveStudyPageTests
{
    private const string Spec = """
        { "name": "live", "workload": "fashion-mnist-cnn",
          "objective": { "metric": "val_accuracy", "direction": "maximize" },
          "sampler": { "type": "random", "seed": 3 },
          "budget": { "trials": 2, "parallel": 2 },
          "fixed": { "epochs": 5 },
          "space": { "lr": { "type": "float", "low": 0.001, "high": 0.1, "scale": "log" } } }
        """;

    [Fact]
    public async Task StudyPage_WhenEpochsArrive_AppendsPointsWithoutReload()
    {
        await using var dashboard = await RunningDashboard.StartAsync();
        await using var agent = await ScriptedAgent.ConnectAsync(dashboard.GrpcUri, RunningDashboard.Token, slots: 2);
        var studyId = await dashboard.CreateStudyAsync(Spec);
        var first = (await agent.NextAsync(HubMessage.KindOneofCase.StartTrial)).StartTrial;
        var second = (await agent.NextAsync(HubMessage.KindOneofCase.StartTrial)).StartTrial;
        await using var browser = await Browser.LaunchAsync();
        // Ready: the (empty) plot exists, so each trial's first point adds its curve to it and later points extend that curve.
        await browser.OpenAsync(new Uri(dashboard.WebUri, $"/studies/{studyId}").ToString(), "[data-testid=study-page][data-ready=true]");
        await browser.Page.EvaluateAsync("() => window.__notReloaded = true");

        for (var epoch = 1; epoch <= 3; epoch++)
        {
            await agent.ReportAsync(first.TrialId, first.Attempt, epoch, epoch, new Dictionary<string, double> { ["val_accuracy"] = 0.5 + (0.1 * epoch), ["val_loss"] = 1.0 / epoch });
            await agent.ReportAsync(second.TrialId, second.Attempt, epoch, epoch, new Dictionary<string, double> { ["val_accuracy"] = 0.4 + (0.05 * epoch), ["val_loss"] = 1.2 / epoch });
        }

        await Assertions.Expect(browser.Page.Locator("[data-testid=learning-curves]")).ToHaveAttributeAsync("data-points", "6");
        await Assertions.Expect(browser.Page.Locator("#learning-curves .scatterlayer .trace")).ToHaveCountAsync(2);
        await Assertions.Expect(browser.Page.Locator("#learning-curves .scatterlayer .trace").Nth(0).Locator(".points path")).ToHaveCountAsync(3);
        await Assertions.Expect(browser.Page.Locator("#learning-curves .scatterlayer .trace").Nth(1).Locator(".points path")).ToHaveCountAsync(3);
        // Each epoch once, in order (the page got all six before it showed data-points 6, the calls that draw them first).
        Assert.Equal("1,2,3 0.6,0.7,0.8 | 1,2,3 0.45,0.5,0.55", await browser.Page.EvaluateAsync<string>(
            "() => document.getElementById('learning-curves').data.map(t => t.x.join(',') + ' ' + t.y.map(v => Math.round(v * 100) / 100).join(',')).join(' | ')"));
        await Assertions.Expect(browser.Page.Locator("[data-testid=best-value]")).ToContainTextAsync("0.8");
        Assert.True(await browser.Page.EvaluateAsync<bool>("() => window.__notReloaded === true"));

        // Hovering one curve's point fades the other curve; leaving the plot brings it back.
        var traces = browser.Page.Locator("#learning-curves .scatterlayer .trace");
        await traces.Nth(1).Locator(".points path").Last.HoverAsync(new() { Force = true });
        await Assertions.Expect(browser.Page.Locator("#learning-curves")).ToHaveAttributeAsync("data-highlighted", "1");
        await Assertions.Expect(traces.Nth(0)).ToHaveCSSAsync("opacity", "0.15");
        await Assertions.Expect(traces.Nth(1)).ToHaveCSSAsync("opacity", "1");
        await browser.Page.Mouse.MoveAsync(1, 1);
        await Assertions.Expect(traces.Nth(0)).ToHaveCSSAsync("opacity", "1");
        await browser.ScreenshotAsync("study-live");
    }

    [Fact]
    public async Task AgentsAndStudiesPages_WhileATrialRuns_ShowSlotsInUseAndTheBestValue()
    {
        await using var dashboard = await RunningDashboard.StartAsync();
        await using var agent = await ScriptedAgent.ConnectAsync(dashboard.GrpcUri, RunningDashboard.Token, agentId: "gpu-box-1", slots: 3);
        await dashboard.CreateStudyAsync(Spec.Replace("\"parallel\": 2", "\"parallel\": 1", StringComparison.Ordinal));
        var start = (await agent.NextAsync(HubMessage.KindOneofCase.StartTrial)).StartTrial;
        await agent.ReportAsync(start.TrialId, start.Attempt, 1, 1, new Dictionary<string, double> { ["val_accuracy"] = 0.625 });
        await agent.NextAsync(HubMessage.KindOneofCase.Ack);
        await using var browser = await Browser.LaunchAsync();

        await browser.OpenAsync(new Uri(dashboard.WebUri, "/agents").ToString(), "[data-testid=agents-table]");
        await Assertions.Expect(browser.Page.Locator("[data-testid=agent-slots]")).ToHaveTextAsync("1 / 3");
        await Assertions.Expect(browser.Page.Locator("[data-testid=agents-table]")).ToContainTextAsync("gpu-box-1");
        await browser.ScreenshotAsync("agents");
        await browser.OpenAsync(dashboard.WebUri.ToString(), "[data-testid=studies-table]");
        await Assertions.Expect(browser.Page.Locator("[data-testid=studies-table]")).ToContainTextAsync("0.625");
        await browser.ScreenshotAsync("studies");

        await agent.FinishAsync(start.TrialId, start.Attempt, 2, TrialOutcome.Completed);
        await Assertions.Expect(browser.Page.Locator("[data-testid=studies-table]")).ToContainTextAsync("1 done");
    }
}
