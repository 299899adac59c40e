using System.Text.RegularExpressions;
using HyperTune.TestSupport;
using Microsoft.Playwright;

namespace HyperTune.EndToEnd.Tests;

/// <summary>Fork from epoch k in Chromium, on two real agents: the checkpoint travels from one to the other through the dashboard.</summary>
public sealed partial class ForkRealAgentsTests
{
    private static string Spec(string name, int epochs) => $$"""
        { "name": "{{name}}", "workload": "fashion-mnist-mlp",
          "objective": { "metric": "val_accuracy", "direction": "maximize" },
          "sampler": { "type": "random", "seed": 2 },
          "budget": { "trials": 1, "parallel": 2 },
          "fixed": { "epochs": {{epochs}}, "train_samples": 3000, "val_samples": 300, "lr": 0.05 },
          "space": { "hidden_units": { "type": "categorical", "choices": [64] } } }
        """;

    [Fact]
    public async Task ForkFromACheckpoint_InTheCloneDialog_RunsOnTheOtherAgentFromTheFetchedCheckpoint()
    {
        await using var dashboard = await RunningDashboard.StartAsync();
        await using var holder = await RunningAgent.StartAsync(dashboard, "holder");
        var source = await dashboard.CreateStudyAsync(Spec("source", epochs: 2));
        var done = await dashboard.WaitForTrialsAsync(source, t => t.GetArrayLength() == 1 && t[0].GetProperty("state").GetString() == "completed", TimeSpan.FromMinutes(2));
        var kept = done[0].GetProperty("checkpointEpochs").EnumerateArray().Select(e => e.GetInt32()).ToList();

        // A long trial of another study keeps the holder's only slot busy, so the fork can only start on the other agent.
        var busy = await dashboard.CreateStudyAsync(Spec("busy", epochs: 100));
        await dashboard.WaitForTrialsAsync(busy, t => t.GetArrayLength() == 1 && t[0].GetProperty("state").GetString() == "running", TimeSpan.FromMinutes(1));
        await using var browser = await Browser.LaunchAsync();
        await browser.OpenAsync(new Uri(dashboard.WebUri, $"/studies/{source}").ToString(), "[data-testid=clone-trial][data-trial='1']");
        await browser.Page.Locator("[data-testid=clone-trial][data-trial='1']").ClickAsync();
        await browser.SelectAsync("clone-start-from", ForkChoice());
        await browser.Page.Locator("[data-testid=clone-param-epochs]").FillAsync("4");
        await browser.ScreenshotAsync("fork-dialog");
        await browser.Page.Locator("[data-testid=clone-launch]").ClickAsync();
        await using var other = await RunningAgent.StartAsync(dashboard, "other");

        await Assertions.Expect(browser.Page.Locator("[data-testid=trial-state][data-trial='2']"))
            .ToContainTextAsync("completed", new() { Timeout = 120_000 });
        await browser.ScreenshotAsync("fork-completed");
        var trials = await dashboard.GetJsonAsync($"/api/studies/{source}/trials");
        await dashboard.PostAsync($"/api/trials/{(await dashboard.GetJsonAsync($"/api/studies/{busy}/trials"))[0].GetProperty("id").GetInt64()}/stop", "");

        var fork = trials[1];
        var from = fork.GetProperty("resume").GetProperty("epoch").GetInt32();
        Assert.Contains(from, kept);
        Assert.Equal("other", fork.GetProperty("agentId").GetString());
        // The fork trained only the epochs after its checkpoint, from the holder's weights (already far above chance).
        Assert.Equal(Enumerable.Range(from + 1, 4 - from), fork.GetProperty("epochs").EnumerateArray().Select(e => e.GetProperty("epoch").GetInt32()));
        Assert.True(fork.GetProperty("epochs")[0].GetProperty("metrics").GetProperty("val_accuracy").GetDouble() > 0.6);
        Assert.True(File.Exists(Path.Combine(dashboard.DataDir, "checkpoints", $"trial-{trials[0].GetProperty("id").GetInt64()}-attempt-1-epoch-{from}.ckpt")));
    }

    [GeneratedRegex(@"^checkpoint after epoch \d+ \(fork\)$")]
    private static partial Regex ForkChoice();
}
