using System.Globalization;
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

            // The Log dialog of a built-in trial: what ran, then one line per epoch (log lines travel in batches, up to 1 s late).
            List<string> log = [];
            for (var wait = 0; wait < 100 && log.Count < 3; wait++)
            {
                await Task.Delay(wait == 0 ? 0 : 100);
                log = [.. (await dashboard.GetJsonAsync($"/api/trials/{trial.GetProperty("id").GetInt64()}/log")).GetProperty("lines").EnumerateArray().Select(l => l.GetString()!)];
            }

            Assert.StartsWith("fashion-mnist-cnn on cpu", log[0], StringComparison.Ordinal);
            Assert.Equal(["epoch 1/2:", "epoch 2/2:"], log.Skip(1).Select(l => l[..l.IndexOf(':', StringComparison.Ordinal)] + ":"));
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

        // The chip shows how far the stop got: it appears once the click reached the dashboard (requested), turns
        // delivered once the agent confirms it, and done once the trial has stopped; a failure names the step it hung at.
        var chip = browser.Page.Locator("[data-testid=command-state][data-trial='1']");
        await browser.Page.Locator("[data-testid=stop-trial][data-trial='1']").ClickAsync();
        await Assertions.Expect(chip).ToHaveAttributeAsync("data-command", "stop");
        await Assertions.Expect(chip).ToHaveAttributeAsync("data-delivery", "done", new() { Timeout = 60_000 });
        await Assertions.Expect(chip).ToHaveTextAsync("stopped");
        await Assertions.Expect(browser.Page.Locator("[data-testid=trial-state][data-trial='1']")).ToContainTextAsync("stopped");

        await browser.Page.Locator("[data-testid=clone-trial][data-trial='1']").ClickAsync();
        await browser.Page.Locator("[data-testid=clone-param-epochs]").FillAsync("2");
        await browser.Page.Locator("[data-testid=clone-launch]").ClickAsync();
        // Patience, not a time limit: on two loaded cores a CNN epoch here has taken 80 s (26 images/s).
        await Assertions.Expect(browser.Page.Locator("[data-testid=trial-state][data-trial='2']"))
            .ToContainTextAsync("completed", new() { Timeout = 400_000 });
        await browser.ScreenshotAsync("real-after-clone");

        var trials = await dashboard.GetJsonAsync("/api/studies/1/trials");
        Assert.Equal(("stopped", "stopped by admin"), (trials[0].GetProperty("state").GetString(), trials[0].GetProperty("reason").GetString()));
        Assert.True(trials[0].GetProperty("epochs").GetArrayLength() >= 1);
        Assert.Equal(2, trials[1].GetProperty("epochs").GetArrayLength());
        Assert.Equal(trials[0].GetProperty("params").GetProperty("lr").GetDouble(), trials[1].GetProperty("params").GetProperty("lr").GetDouble());
    }

    [Fact]
    public async Task Browser_PauseThenResume_ContinuesFromTheCheckpointOnTheRealAgent()
    {
        await using var dashboard = await RunningDashboard.StartAsync();
        var studyId = await dashboard.CreateStudyAsync("""
            { "name": "pause", "workload": "fashion-mnist-mlp",
              "objective": { "metric": "val_accuracy", "direction": "maximize" },
              "sampler": { "type": "random", "seed": 11 },
              "budget": { "trials": 1, "parallel": 1 },
              "fixed": { "epochs": 1000, "train_samples": 1000, "val_samples": 200 },
              "space": { "lr": { "type": "float", "low": 0.01, "high": 0.1, "scale": "log" } } }
            """);
        await using var browser = await Browser.LaunchAsync();
        await browser.OpenAsync(new Uri(dashboard.WebUri, $"/studies/{studyId}").ToString(), "[data-testid=study-page][data-ready=true]");
        var page = browser.Page;
        var chip = page.Locator("[data-testid=command-state][data-trial='1']");
        var state = page.Locator("[data-testid=trial-state][data-trial='1']");

        // The agent joins once the page is open, so the page sees the trial's epochs arrive one by one however long it took
        // to load. 1,000 epochs cannot all pass between the second stored epoch and the Pause on any machine, however fast,
        // and the test never waits for them: once the resumed attempt has stored an epoch, it stops the trial.
        // It waits for the second epoch in the database rather than on the page: a busy browser may draw several at once.
        await using var agent = await RunningAgent.StartAsync(dashboard);
        await dashboard.WaitForTrialsAsync(studyId, t => t.GetArrayLength() == 1 && t[0].GetProperty("epochs").GetArrayLength() >= 2, TimeSpan.FromMinutes(5));

        await page.Locator("[data-testid=pause-trial][data-trial='1']").ClickAsync();
        await Assertions.Expect(chip).ToHaveAttributeAsync("data-command", "pause");
        await Assertions.Expect(chip).ToHaveAttributeAsync("data-delivery", "done", new() { Timeout = 60_000 });
        await Assertions.Expect(state).ToContainTextAsync("paused");
        await browser.ScreenshotAsync("real-paused");
        var paused = (await dashboard.GetJsonAsync($"/api/studies/{studyId}/trials"))[0];
        var pausedAt = paused.GetProperty("resume").GetProperty("epoch").GetInt32();
        Assert.InRange(pausedAt, 2, 999);

        await page.Locator("[data-testid=resume-trial][data-trial='1']").ClickAsync();
        await Assertions.Expect(chip).ToHaveAttributeAsync("data-command", "resume");
        await Assertions.Expect(chip).ToHaveTextAsync("resumed", new() { Timeout = 300_000 });
        await dashboard.WaitForTrialsAsync(studyId, t => t[0].GetProperty("epochs").GetArrayLength() > pausedAt, TimeSpan.FromMinutes(5));
        await page.Locator("[data-testid=stop-trial][data-trial='1']").ClickAsync();
        await Assertions.Expect(chip).ToHaveAttributeAsync("data-command", "stop");
        await Assertions.Expect(chip).ToHaveAttributeAsync("data-delivery", "done", new() { Timeout = 60_000 });
        await Assertions.Expect(state).ToContainTextAsync("stopped");
        var trial = (await dashboard.GetJsonAsync($"/api/studies/{studyId}/trials"))[0];
        var epochs = trial.GetProperty("epochs").GetArrayLength();
        await Assertions.Expect(page.Locator("[data-testid=learning-curves]")).ToHaveAttributeAsync("data-points", epochs.ToString(CultureInfo.InvariantCulture));
        await browser.ScreenshotAsync("real-resumed");

        // Attempt 1 reported epochs 1..k and kept the checkpoint of k; attempt 2 went on from it with k+1, k+2, ...
        Assert.Equal(Enumerable.Range(1, pausedAt), await EpochsOfAttemptAsync(dashboard, 1));
        Assert.Equal(Enumerable.Range(pausedAt + 1, epochs - pausedAt), await EpochsOfAttemptAsync(dashboard, 2));
        Assert.Equal(Enumerable.Range(1, epochs), trial.GetProperty("epochs").EnumerateArray().Select(e => e.GetProperty("epoch").GetInt32()));
        Assert.Equal(2, trial.GetProperty("attempt").GetInt32());
    }

    private static async Task<List<int>> EpochsOfAttemptAsync(RunningDashboard dashboard, int attempt)
    {
        await using var db = new SqliteConnection($"Data Source={dashboard.DatabasePath};Mode=ReadOnly");
        await db.OpenAsync();
        using var command = db.CreateCommand();
        command.CommandText = "SELECT Epoch FROM epoch_reports WHERE Attempt = $attempt ORDER BY Epoch";
        command.Parameters.AddWithValue("$attempt", attempt);
        var epochs = new List<int>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            epochs.Add(reader.GetInt32(0));
        }

        return epochs;
    }
}
