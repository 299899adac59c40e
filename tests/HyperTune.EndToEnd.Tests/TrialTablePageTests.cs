using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using HyperTune.Protos.V1;
using HyperTune.TestSupport;
using Microsoft.Playwright;

namespace HyperTune.EndToEnd.Tests;

/// <summary>The study page's trial table in real Chromium: filters, tags, notes and the four downloads, fed by a scripted agent (a test double).</summary>
public sealed class TrialTablePageTests
{
    private const string Spec = """
        { "name": "table", "workload": "fashion-mnist-cnn",
          "objective": { "metric": "val_accuracy", "direction": "maximize" },
          "sampler": { "type": "random", "seed": 8 },
          "budget": { "trials": 3, "parallel": 3 },
          "fixed": { "epochs": 5 },
          "space": { "lr": { "type": "float", "low": 0.001, "high": 0.1, "scale": "log" },
                     "batch_size": { "type": "categorical", "choices": [32, 64] } } }
        """;

    [Fact]
    public async Task StudyPage_FilterTagNoteAndDownloads_ShowAndExportWhatTheApiHolds()
    {
        await using var dashboard = await RunningDashboard.StartAsync();
        await using var agent = await ScriptedAgent.ConnectAsync(dashboard.GrpcUri, RunningDashboard.Token, slots: 3);
        var studyId = await dashboard.CreateStudyAsync(Spec);
        var starts = new List<StartTrial>();
        for (var i = 0; i < 3; i++)
        {
            starts.Add((await agent.NextAsync(HubMessage.KindOneofCase.StartTrial)).StartTrial);
        }

        foreach (var (start, i) in starts.Select((s, i) => (s, i)))
        {
            for (var epoch = 1; epoch <= 2; epoch++)
            {
                await agent.ReportAsync(start.TrialId, start.Attempt, epoch, epoch, new Dictionary<string, double>
                {
                    ["val_accuracy"] = 0.5 + (0.1 * i) + (0.01 * epoch),
                    ["val_loss"] = 1.0 / (epoch + i),
                    ["grad_norm"] = i == 2 ? double.NaN : 2.5,
                });
            }
        }

        // Trials #1 and #2 complete; #3 keeps running.
        await agent.FinishAsync(starts[0].TrialId, starts[0].Attempt, 3, TrialOutcome.Completed);
        await agent.FinishAsync(starts[1].TrialId, starts[1].Attempt, 3, TrialOutcome.Completed);
        await dashboard.WaitForTrialsAsync(studyId, t => t.EnumerateArray().Count(x => x.GetProperty("state").GetString() == "completed") == 2, TimeSpan.FromSeconds(20));
        await using var browser = await Browser.LaunchAsync();
        var page = browser.Page;
        await browser.OpenAsync(new Uri(dashboard.WebUri, $"/studies/{studyId}").ToString(), "[data-testid=trial-number]");
        await Assertions.Expect(page.Locator("[data-testid=trial-count]")).ToHaveTextAsync("3 trials");

        // Filters: by state, then by free text.
        await page.Locator("[data-testid=filter-state-completed]").ClickAsync();
        await Assertions.Expect(page.Locator("[data-testid=trial-count]")).ToHaveTextAsync("2 of 3 trials");
        await Assertions.Expect(page.Locator("[data-testid=trial-state][data-trial='3']")).ToHaveCountAsync(0);
        await page.Locator("[data-testid=filter-text]").FillAsync("#2");
        await Assertions.Expect(page.Locator("[data-testid=trial-number]")).ToHaveTextAsync(["2"]);
        await browser.ScreenshotAsync("trial-table-filtered");
        await page.Locator("[data-testid=filter-clear]").ClickAsync();
        await Assertions.Expect(page.Locator("[data-testid=trial-count]")).ToHaveTextAsync("3 trials");

        // A range on lr from the middle trial's value up keeps the two with the larger lr.
        var lrs = starts.Select(s => s.Params["lr"].Number).Order().ToList();
        await page.Locator("[data-testid=filter-add]").ClickAsync();
        await page.Locator("[data-testid=filter-add-param-lr]").ClickAsync();
        await page.Locator("[data-testid=filter-min-param-lr]").FillAsync(lrs[1].ToString("R", CultureInfo.InvariantCulture));
        await page.Locator("[data-testid=filter-min-param-lr]").PressAsync("Tab");
        await Assertions.Expect(page.Locator("[data-testid=trial-count]")).ToHaveTextAsync("2 of 3 trials");
        await browser.ScreenshotAsync("trial-table-lr-range");
        await page.Locator("[data-testid=filter-clear]").ClickAsync();
        await Assertions.Expect(page.Locator("[data-testid=trial-count]")).ToHaveTextAsync("3 trials");

        // A tag on trial #2.
        await page.Locator("[data-testid=add-tag][data-trial='2']").ClickAsync();
        await page.Locator("[data-testid=new-tag][data-trial='2']").FillAsync("best-lr");
        await page.Locator("[data-testid=new-tag][data-trial='2']").PressAsync("Enter");
        await Assertions.Expect(page.Locator("[data-testid=trial-tag][data-trial='2']")).ToHaveTextAsync("best-lr");

        // A Markdown note on trial #2, rendered once saved.
        await page.Locator("[data-testid=trial-notes][data-trial='2']").ClickAsync();
        await page.Locator("[data-testid=trial-notes-input]").FillAsync("**Great** run\n\n- lr looks right\n- <b>raw html</b> stays text");
        await page.Locator("[data-testid=trial-notes-save]").ClickAsync();
        await Assertions.Expect(page.Locator("[data-testid=trial-notes-rendered] strong")).ToHaveTextAsync("Great");
        await Assertions.Expect(page.Locator("[data-testid=trial-notes-rendered] li")).ToHaveCountAsync(2);
        await Assertions.Expect(page.Locator("[data-testid=trial-notes-rendered] b")).ToHaveCountAsync(0);
        await browser.ScreenshotAsync("trial-notes-dialog");
        await page.Locator("[data-testid=trial-notes-close]").ClickAsync();
        await Assertions.Expect(page.Locator("[data-testid=trial-notes][data-trial='2']")).ToHaveAttributeAsync("data-has-notes", "true");
        await browser.ScreenshotAsync("trial-table");

        var api = await dashboard.GetJsonAsync($"/api/studies/{studyId}/trials");
        Assert.Equal(["best-lr"], api.EnumerateArray().Single(t => t.GetProperty("number").GetInt32() == 2).GetProperty("tags").EnumerateArray().Select(t => t.GetString()));

        // The four downloads, saved as Chromium saves them.
        var folder = Directory.CreateTempSubdirectory("hypertune-downloads-").FullName;
        var files = new Dictionary<string, string>();
        foreach (var what in new[] { "trials.csv", "trials.json", "epochs.csv", "epochs.json" })
        {
            var download = await page.RunAndWaitForDownloadAsync(() => page.Locator($"[data-testid=export-{what.Replace('.', '-')}]").ClickAsync());
            Assert.Equal($"study-{studyId}-{what}", download.SuggestedFilename);
            files[what] = Path.Combine(folder, download.SuggestedFilename);
            await download.SaveAsAsync(files[what]);
        }

        var byNumber = api.EnumerateArray().ToDictionary(t => t.GetProperty("number").GetInt32().ToString(CultureInfo.InvariantCulture));
        var trialsCsv = CsvRecords.FromFile(files["trials.csv"]);
        var column = trialsCsv[0].Select((name, i) => (name, i)).ToDictionary(c => c.name, c => c.i);
        Assert.Equal(byNumber.Keys.Order(), trialsCsv.Skip(1).Select(r => r[column["number"]]).Order());
        foreach (var row in trialsCsv.Skip(1))
        {
            var trial = byNumber[row[column["number"]]];
            Assert.Equal(trial.GetProperty("state").GetString(), row[column["state"]]);
            Assert.Equal(trial.GetProperty("params").GetProperty("lr").GetDouble(), double.Parse(row[column["params_lr"]], CultureInfo.InvariantCulture));
            Assert.Equal(string.Join(',', trial.GetProperty("tags").EnumerateArray().Select(t => t.GetString())), row[column["tags"]]);
            Assert.Equal(trial.GetProperty("notes").GetString() ?? "", row[column["notes"]]);
        }

        var trialsJson = JsonNode.Parse(await File.ReadAllTextAsync(files["trials.json"]))!.AsArray();
        Assert.Equal(api.GetArrayLength(), trialsJson.Count);
        for (var i = 0; i < trialsJson.Count; i++)
        {
            var expected = JsonSerializer.SerializeToNode(api[i])!.AsObject();
            expected.Remove("epochs");
            Assert.Equal(expected.ToJsonString(), trialsJson[i]!.ToJsonString());
        }

        var epochsCsv = CsvRecords.FromFile(files["epochs.csv"]);
        Assert.Equal(["trial", "attempt", "epoch", "grad_norm", "val_accuracy", "val_loss"], epochsCsv[0]);
        Assert.Equal(api.EnumerateArray().Sum(t => t.GetProperty("epochs").GetArrayLength()), epochsCsv.Count - 1);
        Assert.Equal(["3", "1", "2", "NaN"], epochsCsv[^1][..4]);
        var epochsJson = JsonNode.Parse(await File.ReadAllTextAsync(files["epochs.json"]))!.AsArray();
        Assert.Equal(epochsCsv.Count - 1, epochsJson.Count);
        Assert.Equal("NaN", epochsJson[^1]!["metrics"]!["grad_norm"]!.GetValue<string>());
        Directory.Delete(folder, recursive: true);
    }
}
