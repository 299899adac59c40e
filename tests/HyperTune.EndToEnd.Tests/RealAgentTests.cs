using HyperTune.TestSupport;
using Microsoft.Data.Sqlite;
using Microsoft.Playwright;

namespace HyperTune.EndToEnd.Tests;

/// <summary>The real dashboard and the real agent, training Fashion-MNIST subsets with TorchSharp on this machine's CPU.</summary>
public sealed class RealAgentTests
{
    private const string SmallStudy = """
        { "name": "real", "workload": "fashion-mnist-cnn",
          "objective": { "metric": "val_accuracy", "direction": "maximize" },
          "sampler": { "type": "random", "seed": 11 },
          "budget": { "trials": 2, "parallel": 1 },
          "fixed": { "epochs": 2, "train_samples": 1500, "val_samples": 500 },
          "space": { "lr": { "type": "float", "low": 0.01, "high": 0.1, "scale": "log" },
                     "batch_size": { "type": "categorical", "choices": [32, 64] } } }
        """;

    private static readonly string[] ReportedMetrics = ["train_loss", "val_loss", "val_accuracy", "epoch_seconds"];

    [Fact]
    public async Task Study_OnRealAgent_StoresEveryEpochOnceWithSaneValues()
    {
        await using var dashboard = await RunningDashboard.StartAsync();
        await using var agent = await RunningAgent.StartAsync(dashboard);

        var studyId = await dashboard.CreateStudyAsync(SmallStudy);
        var trials = await dashboard.WaitForTrialsAsync(studyId,
            t => t.GetArrayLength() == 2 && t.EnumerateArray().All(x => x.GetProperty("state").GetString() is "completed" or "failed"),
            TimeSpan.FromMinutes(4));

        Assert.All(trials.EnumerateArray(), t => Assert.Equal("completed", t.GetProperty("state").GetString()));
        await using var db = new SqliteConnection($"Data Source={dashboard.DatabasePath};Mode=ReadOnly");
        await db.OpenAsync();
        using var command = db.CreateCommand();
        command.CommandText = """
            SELECT r.TrialId, r.Epoch, COUNT(*) AS n, GROUP_CONCAT(m.Name) AS names,
                   MAX(CASE m.Name WHEN 'val_accuracy' THEN m.Value END) AS acc,
                   MAX(CASE m.Name WHEN 'train_loss' THEN m.Value END) AS loss
            FROM epoch_reports r JOIN epoch_metrics m ON m.ReportId = r.Id
            GROUP BY r.Id ORDER BY r.TrialId, r.Epoch
            """;
        var rows = new List<(long Trial, long Epoch, string Names, double Accuracy, double Loss)>();
        await using (var reader = await command.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                rows.Add((reader.GetInt64(0), reader.GetInt64(1), reader.GetString(3), reader.GetDouble(4), reader.GetDouble(5)));
            }
        }

        Assert.Equal(4, rows.Count);
        Assert.Equal([1L, 2L, 1L, 2L], rows.Select(r => r.Epoch));
        Assert.All(rows, r =>
        {
            foreach (var name in ReportedMetrics)
            {
                Assert.Contains(name, r.Names.Split(','));
            }

            Assert.InRange(r.Accuracy, 0.2, 1.0);
            Assert.InRange(r.Loss, 0.0, 5.0);
        });
        foreach (var trial in trials.EnumerateArray())
        {
            var stored = rows.Where(r => r.Trial == trial.GetProperty("id").GetInt64()).Max(r => r.Accuracy);
            Assert.Equal(stored, trial.GetProperty("bestValue").GetDouble(), 12);
        }
    }

    [Fact]
    public async Task Browser_CreateStudyInFormThenStopAndClone_WorksOnTheRealAgent()
    {
        await using var dashboard = await RunningDashboard.StartAsync();
        await using var agent = await RunningAgent.StartAsync(dashboard);
        await using var browser = await Browser.LaunchAsync();
        await browser.OpenAsync(new Uri(dashboard.WebUri, "/studies/new").ToString(), "[data-testid=create-study]");
        await browser.Page.Locator("[data-testid=study-name]").FillAsync("e2e-real");
        await browser.Page.Locator("[data-testid=study-trials]").FillAsync("1");
        await browser.Page.Locator("[data-testid=study-parallel]").FillAsync("1");
        await browser.Page.Locator("[data-testid=fixed-value-0]").FillAsync("30");
        await browser.Page.Locator("[data-testid=fixed-value-1]").FillAsync("1000");
        await browser.Page.Locator("[data-testid=create-study]").ClickAsync();
        await browser.Page.Locator("[data-testid=learning-curves]").WaitForAsync();
        await browser.Page.EvaluateAsync("() => window.__notReloaded = true");

        // The first epoch's point arrives over the live circuit, with no reload.
        await Assertions.Expect(browser.Page.Locator("[data-testid=learning-curves]"))
            .Not.ToHaveAttributeAsync("data-points", "0", new() { Timeout = 120_000 });
        Assert.True(await browser.Page.EvaluateAsync<bool>("() => window.__notReloaded === true"));
        await browser.ScreenshotAsync("real-first-epoch");

        await browser.Page.Locator("[data-testid=stop-trial][data-trial='1']").ClickAsync();
        await Assertions.Expect(browser.Page.Locator("[data-testid=trial-state][data-trial='1']"))
            .ToContainTextAsync("stopped", new() { Timeout = 15_000 });

        await browser.Page.Locator("[data-testid=clone-trial][data-trial='1']").ClickAsync();
        await browser.Page.Locator("[data-testid=clone-param-epochs]").FillAsync("2");
        await browser.Page.Locator("[data-testid=clone-launch]").ClickAsync();
        await Assertions.Expect(browser.Page.Locator("[data-testid=trial-state][data-trial='2']"))
            .ToContainTextAsync("completed", new() { Timeout = 120_000 });
        await browser.ScreenshotAsync("real-after-clone");

        var trials = await dashboard.GetJsonAsync("/api/studies/1/trials");
        Assert.Equal("stopped", trials[0].GetProperty("state").GetString());
        Assert.True(trials[0].GetProperty("epochs").GetArrayLength() >= 1);
        Assert.Equal(2, trials[1].GetProperty("epochs").GetArrayLength());
        Assert.Equal(trials[0].GetProperty("params").GetProperty("lr").GetDouble(), trials[1].GetProperty("params").GetProperty("lr").GetDouble());
    }
}
