using System.Globalization;
using HyperTune.Protos.V1;
using HyperTune.TestSupport;
using Microsoft.Playwright;

namespace HyperTune.EndToEnd.Tests;

/// <summary>The compare page in real Chromium, fed by a scripted agent (a test double) so each epoch arrives when the test says.</summary>
public sealed class ComparePageTests
{
    private const string Spec = """
        { "name": "compare", "workload": "fashion-mnist-cnn",
          "objective": { "metric": "val_accuracy", "direction": "maximize" },
          "sampler": { "type": "random", "seed": 11 },
          "budget": { "trials": 3, "parallel": 3 },
          "fixed": { "epochs": 5 },
          "space": { "lr": { "type": "float", "low": 0.001, "high": 0.1, "scale": "log" } } }
        """;

    [Fact]
    public async Task ComparePage_TwoTrialsThenAThirdFromThePicker_ShowsDeltasFollowsTheUrlAndAppendsLiveEpochs()
    {
        await using var dashboard = await RunningDashboard.StartAsync();
        await using var agent = await ScriptedAgent.ConnectAsync(dashboard.GrpcUri, RunningDashboard.Token, slots: 3);
        var studyId = await dashboard.CreateStudyAsync(Spec);
        var starts = new List<StartTrial>();
        for (var i = 0; i < 3; i++)
        {
            starts.Add((await agent.NextAsync(HubMessage.KindOneofCase.StartTrial)).StartTrial);
        }

        var numbers = (await dashboard.GetJsonAsync($"/api/studies/{studyId}/trials")).EnumerateArray()
            .ToDictionary(t => t.GetProperty("id").GetInt64(), t => t.GetProperty("number").GetInt32());
        var byNumber = starts.ToDictionary(s => numbers[s.TrialId]);
        var first = byNumber[1];
        var second = byNumber[2];
        var third = byNumber[3];
        double[][] accuracies = [[0.6, 0.7], [0.65, 0.8], [0.5]];
        for (var n = 1; n <= 3; n++)
        {
            var start = byNumber[n];
            for (var epoch = 1; epoch <= accuracies[n - 1].Length; epoch++)
            {
                await agent.ReportAsync(start.TrialId, start.Attempt, epoch, epoch, new Dictionary<string, double>
                {
                    ["val_accuracy"] = accuracies[n - 1][epoch - 1],
                    ["val_loss"] = 1.0 / (n + epoch),
                });
            }
        }

        await agent.FinishAsync(first.TrialId, first.Attempt, 10, TrialOutcome.Completed);
        await agent.FinishAsync(second.TrialId, second.Attempt, 10, TrialOutcome.Completed);
        await dashboard.WaitForTrialsAsync(studyId, t => t.EnumerateArray().Count(x => x.GetProperty("state").GetString() == "completed") == 2, TimeSpan.FromSeconds(30));

        await using var browser = await Browser.LaunchAsync();
        var page = browser.Page;
        await browser.OpenAsync(new Uri(dashboard.WebUri, $"/studies/{studyId}").ToString(), "[data-testid=compare-link]");
        await browser.ScreenshotAsync("compare-link");
        await page.Locator("[data-testid=compare-link]").ClickAsync();
        await Assertions.Expect(page).ToHaveURLAsync(new Uri(dashboard.WebUri, $"/studies/{studyId}/compare").ToString());
        await Assertions.Expect(page.Locator("[data-testid=compare-count]")).ToContainTextAsync("Pick at least 2 trials");

        await browser.OpenAsync(new Uri(dashboard.WebUri, $"/studies/{studyId}/compare?trials=1,2&baseline=1").ToString(), "[data-testid=compare-table]");
        await page.EvaluateAsync("() => window.__notReloaded = true");
        await Assertions.Expect(Cell(page, 1, "lr")).ToHaveTextAsync(Lr(first));
        await Assertions.Expect(Cell(page, 2, "lr")).ToContainTextAsync(Lr(second));
        await Assertions.Expect(Cell(page, 2, "val_accuracy (best)").Locator("[data-testid=compare-delta]")).ToHaveTextAsync("+0.1 (+14.3%)");
        await Assertions.Expect(Cell(page, 2, "val_accuracy (best)").Locator("[data-testid=compare-delta]")).ToHaveAttributeAsync("data-tone", "better");
        await Assertions.Expect(Cell(page, 2, "val_loss (last)").Locator("[data-testid=compare-delta]")).ToHaveAttributeAsync("data-tone", "lower");
        await Assertions.Expect(Cell(page, 1, "val_accuracy (best)").Locator("[data-testid=compare-delta]")).ToHaveCountAsync(0);
        await Assertions.Expect(Cell(page, 2, "origin")).ToHaveTextAsync("sampled");
        await Assertions.Expect(Row(page, "epochs")).ToHaveCountAsync(1);
        await Assertions.Expect(page.Locator("#compare-curves-chart .scatterlayer .trace")).ToHaveCountAsync(2);
        await browser.ScreenshotAsync("compare-two");

        await page.Locator("[data-testid=compare-hide-identical]").ClickAsync();
        await Assertions.Expect(Row(page, "epochs")).ToHaveCountAsync(0);
        await Assertions.Expect(Row(page, "state")).ToHaveCountAsync(0);
        await Assertions.Expect(Row(page, "lr")).ToHaveCountAsync(1);

        await page.Locator("[data-testid=compare-picker]").ClickAsync();
        await page.Locator("[data-testid=compare-pick-item][data-trial='3']").WaitForAsync();
        await browser.ScreenshotAsync("compare-picker");
        await page.Locator("[data-testid=compare-pick-item][data-trial='3']").ClickAsync();
        await Assertions.Expect(page).ToHaveURLAsync(new Uri(dashboard.WebUri, $"/studies/{studyId}/compare?trials=1,2,3&baseline=1").ToString());
        await page.Keyboard.PressAsync("Escape");
        await Assertions.Expect(page.Locator("[data-testid=compare-pick-item]").First).ToBeHiddenAsync();
        await Assertions.Expect(page.Locator("[data-testid=compare-curves]")).ToHaveAttributeAsync("data-trials", "1,2,3");
        await Assertions.Expect(page.Locator("#compare-curves-chart .scatterlayer .trace")).ToHaveCountAsync(3);
        await Assertions.Expect(Cell(page, 3, "lr")).ToContainTextAsync(Lr(third));
        await Assertions.Expect(Row(page, "state")).ToHaveCountAsync(1);
        await Assertions.Expect(page.Locator("[data-testid=learning-curves]")).ToHaveAttributeAsync("data-points", "5");
        await Assertions.Expect(Cell(page, 3, "epochs done").Locator("[data-testid=compare-delta]")).ToHaveTextAsync("−1 (−50%)");

        await agent.ReportAsync(third.TrialId, third.Attempt, 2, 2, new Dictionary<string, double> { ["val_accuracy"] = 0.9, ["val_loss"] = 0.2 });
        await Assertions.Expect(page.Locator("[data-testid=learning-curves]")).ToHaveAttributeAsync("data-points", "6");
        await Assertions.Expect(Cell(page, 3, "val_accuracy (last)")).ToContainTextAsync("0.9");

        // Every trial has now done 2 epochs: the row became identical and is hidden.
        await Assertions.Expect(Row(page, "epochs done")).ToHaveCountAsync(0);
        await Assertions.Expect(Cell(page, 3, "val_accuracy (best)").Locator("[data-testid=compare-delta]")).ToHaveAttributeAsync("data-tone", "better");
        await browser.ScreenshotAsync("compare-three-live");

        await page.Locator("[data-testid=compare-baseline]").ClickAsync();
        await page.Locator("[data-testid=compare-baseline-item][data-trial='3']").ClickAsync();
        await Assertions.Expect(page).ToHaveURLAsync(new Uri(dashboard.WebUri, $"/studies/{studyId}/compare?trials=1,2,3&baseline=3").ToString());
        await Assertions.Expect(Cell(page, 1, "val_accuracy (best)").Locator("[data-testid=compare-delta]")).ToHaveTextAsync("−0.2 (−22.2%)");
        await Assertions.Expect(Cell(page, 1, "val_accuracy (best)").Locator("[data-testid=compare-delta]")).ToHaveAttributeAsync("data-tone", "worse");
        await Assertions.Expect(Cell(page, 3, "val_accuracy (best)").Locator("[data-testid=compare-delta]")).ToHaveCountAsync(0);
        Assert.True(await page.EvaluateAsync<bool>("() => window.__notReloaded === true"));
    }

    private static ILocator Row(IPage page, string name) => page.Locator($"[data-testid=compare-row][data-name='{name}']");

    private static ILocator Cell(IPage page, int trial, string name) =>
        page.Locator($"[data-testid=compare-cell][data-trial='{trial}'][data-name='{name}']");

    private static string Lr(StartTrial start) => start.Params["lr"].Number.ToString("G6", CultureInfo.InvariantCulture);
}
