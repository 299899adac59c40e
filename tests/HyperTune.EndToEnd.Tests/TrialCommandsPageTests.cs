using HyperTune.Protos.V1;
using HyperTune.TestSupport;
using Microsoft.Playwright;

namespace HyperTune.EndToEnd.Tests;

/// <summary>
/// Kill, Pause, Resume and Re-run clicked in real Chromium against a scripted agent (a test double that answers on cue),
/// so each command's chip can be seen at every step: requested, then delivered, then done.
/// </summary>
public sealed class TrialCommandsPageTests
{
    private const string TwoTrials = """
        { "name": "commands", "workload": "fashion-mnist-cnn",
          "objective": { "metric": "val_accuracy", "direction": "maximize" },
          "sampler": { "type": "random", "seed": 5 },
          "budget": { "trials": 2, "parallel": 1 },
          "fixed": { "epochs": 4 },
          "space": { "lr": { "type": "float", "low": 0.001, "high": 0.1, "scale": "log" } } }
        """;

    [Fact]
    public async Task StudyPage_PauseResumeKillRerun_ChipGoesRequestedDeliveredDone()
    {
        await using var dashboard = await RunningDashboard.StartAsync();
        await using var agent = await ScriptedAgent.ConnectAsync(dashboard.GrpcUri, RunningDashboard.Token, slots: 1);
        var studyId = await dashboard.CreateStudyAsync(TwoTrials);
        await using var browser = await Browser.LaunchAsync();
        await browser.OpenAsync(new Uri(dashboard.WebUri, $"/studies/{studyId}").ToString(), "[data-testid=trials-table]");
        var page = browser.Page;
        var first = (await agent.NextAsync(HubMessage.KindOneofCase.StartTrial)).StartTrial;
        await Report(agent, first, seq: 1, epoch: 1);
        await Report(agent, first, seq: 2, epoch: 2);
        await Assertions.Expect(page.Locator("[data-testid=learning-curves]")).ToHaveAttributeAsync("data-points", "2");

        // Pause #1: requested until its agent confirms, delivered until it ends, then paused at its epoch-2 checkpoint.
        await page.Locator("[data-testid=pause-trial][data-trial='1']").ClickAsync();
        await ExpectChipAsync(page, 1, "pause", "requested", "pause requested");
        var pause = (await agent.NextAsync(HubMessage.KindOneofCase.StopTrial)).StopTrial;
        await agent.ConfirmAsync(pause);
        await ExpectChipAsync(page, 1, "pause", "delivered", "pause delivered");
        await browser.ScreenshotAsync("commands-pause-delivered");
        await agent.FinishAsync(pause.TrialId, pause.Attempt, 3, TrialOutcome.Paused, pause.Reason);
        await ExpectChipAsync(page, 1, "pause", "done", "paused");
        await Assertions.Expect(State(page, 1)).ToContainTextAsync("paused");
        await Assertions.Expect(page.Locator("[data-testid=resume-trial][data-trial='1']")).ToBeEnabledAsync();

        // The free slot goes to #2; Resume of #1 then waits for it (requested).
        var second = (await agent.NextAsync(HubMessage.KindOneofCase.StartTrial)).StartTrial;
        await Assertions.Expect(State(page, 2)).ToContainTextAsync("running");
        await page.Locator("[data-testid=resume-trial][data-trial='1']").ClickAsync();
        await ExpectChipAsync(page, 1, "resume", "requested", "resume requested");
        await Assertions.Expect(State(page, 1)).ToContainTextAsync("queued");
        await browser.ScreenshotAsync("commands-resume-requested");

        // Kill #2 (after confirming): its slot frees, and #1's new attempt continues from epoch 3.
        await page.Locator("[data-testid=kill-trial][data-trial='2']").ClickAsync();
        await page.Locator(".mud-dialog").GetByRole(AriaRole.Button, new() { Name = "Kill" }).ClickAsync();
        await ExpectChipAsync(page, 2, "kill", "requested", "kill requested");
        var kill = (await agent.NextAsync(HubMessage.KindOneofCase.StopTrial)).StopTrial;
        Assert.Equal((second.TrialId, StopMode.Kill), (kill.TrialId, kill.Mode));
        await agent.ConfirmAsync(kill);
        await ExpectChipAsync(page, 2, "kill", "delivered", "kill delivered");
        await agent.FinishAsync(kill.TrialId, kill.Attempt, 1, TrialOutcome.Stopped, kill.Reason);
        await ExpectChipAsync(page, 2, "kill", "done", "killed");
        await Assertions.Expect(State(page, 2)).ToContainTextAsync("stopped");

        var resumed = (await agent.NextAsync(HubMessage.KindOneofCase.StartTrial)).StartTrial;
        Assert.Equal((first.TrialId, 2, 2), (resumed.TrialId, resumed.Attempt, resumed.Resume.Checkpoint.Epoch));
        await ExpectChipAsync(page, 1, "resume", "delivered", "resume delivered");

        // Re-run #2 while #1 holds the slot: requested; once #1 completes, delivered; its first epoch, done.
        await page.Locator("[data-testid=rerun-trial][data-trial='2']").ClickAsync();
        await ExpectChipAsync(page, 2, "rerun", "requested", "re-run requested");
        await Report(agent, resumed, seq: 1, epoch: 3);
        await ExpectChipAsync(page, 1, "resume", "done", "resumed");
        await Assertions.Expect(page.Locator("[data-testid=learning-curves]")).ToHaveAttributeAsync("data-points", "3");
        await browser.ScreenshotAsync("commands-resumed-and-rerun-requested");
        await agent.FinishAsync(resumed.TrialId, resumed.Attempt, 2, TrialOutcome.Completed);
        var rerun = (await agent.NextAsync(HubMessage.KindOneofCase.StartTrial)).StartTrial;
        Assert.Equal((second.TrialId, 2, null), (rerun.TrialId, rerun.Attempt, rerun.Resume));
        await ExpectChipAsync(page, 2, "rerun", "delivered", "re-run delivered");
        await Report(agent, rerun, seq: 1, epoch: 1);
        await ExpectChipAsync(page, 2, "rerun", "done", "re-run started");
        await Assertions.Expect(State(page, 1)).ToContainTextAsync("completed");
        await Assertions.Expect(page.Locator("[data-testid=learning-curves]")).ToHaveAttributeAsync("data-points", "4");
        await browser.ScreenshotAsync("commands-done");
    }

    [Fact]
    public async Task StudyPage_StopThatTheAgentDoesNotFind_ShowsTheFailureAndTheTrialStopped()
    {
        await using var dashboard = await RunningDashboard.StartAsync();
        await using var agent = await ScriptedAgent.ConnectAsync(dashboard.GrpcUri, RunningDashboard.Token, slots: 1);
        var studyId = await dashboard.CreateStudyAsync(TwoTrials.Replace("\"trials\": 2", "\"trials\": 1", StringComparison.Ordinal));
        await using var browser = await Browser.LaunchAsync();
        await browser.OpenAsync(new Uri(dashboard.WebUri, $"/studies/{studyId}").ToString(), "[data-testid=trials-table]");
        var start = (await agent.NextAsync(HubMessage.KindOneofCase.StartTrial)).StartTrial;
        await Assertions.Expect(State(browser.Page, 1)).ToContainTextAsync("running");

        await browser.Page.Locator("[data-testid=stop-trial][data-trial='1']").ClickAsync();
        await ExpectChipAsync(browser.Page, 1, "stop", "requested", "stop requested");
        await Assertions.Expect(browser.Page.Locator("[data-testid=stop-trial][data-trial='1']")).ToContainTextAsync("Stopping…");
        await agent.ConfirmAsync((await agent.NextAsync(HubMessage.KindOneofCase.StopTrial)).StopTrial, found: false);

        await ExpectChipAsync(browser.Page, 1, "stop", "failed", "stop failed");
        await Assertions.Expect(State(browser.Page, 1)).ToContainTextAsync("stopped");
        await Assertions.Expect(browser.Page.Locator("[data-testid=command-failure][data-trial='1']"))
            .ToHaveTextAsync($"agent scripted-agent was not running trial #1 (attempt {start.Attempt}): the dashboard ended the trial as stopped itself");
        await Assertions.Expect(browser.Page.Locator("[data-testid=rerun-trial][data-trial='1']")).ToBeEnabledAsync();
        await Assertions.Expect(browser.Page.Locator("[data-testid=stop-trial][data-trial='1']")).ToBeDisabledAsync();
        await browser.ScreenshotAsync("commands-stop-not-found");
    }

    [Fact]
    public async Task StudyPage_ClickReleasedAfterTheRowUpdated_StillStopsTheTrial()
    {
        await using var dashboard = await RunningDashboard.StartAsync();
        await using var agent = await ScriptedAgent.ConnectAsync(dashboard.GrpcUri, RunningDashboard.Token, slots: 1);
        var studyId = await dashboard.CreateStudyAsync(TwoTrials.Replace("\"trials\": 2", "\"trials\": 1", StringComparison.Ordinal));
        await using var browser = await Browser.LaunchAsync();
        await browser.OpenAsync(new Uri(dashboard.WebUri, $"/studies/{studyId}").ToString(), "[data-testid=study-page][data-ready=true]");
        var page = browser.Page;
        var start = (await agent.NextAsync(HubMessage.KindOneofCase.StartTrial)).StartTrial;
        await Report(agent, start, seq: 1, epoch: 1);
        await Assertions.Expect(page.Locator("[data-testid=trials-table] tr", new() { HasText = "0.55" })).ToBeVisibleAsync();
        // The mouse is moved by coordinates, which only hit the button when it is on screen (the plots above push the table
        // down) and stays put: the page is ready first, since the plots appear once the curves are drawn and move the table.
        var stopButton = page.Locator("[data-testid=stop-trial][data-trial='1']");
        await stopButton.ScrollIntoViewIfNeededAsync();
        var stop = await stopButton.BoundingBoxAsync();

        // A person presses Stop just as an epoch arrives and releases once the row shows it (what CI load made happen):
        // the row must be updated in place, or the press and the release land on two different buttons and no click fires.
        await page.Mouse.MoveAsync(stop!.X + (stop.Width / 2), stop.Y + (stop.Height / 2));
        await page.Mouse.DownAsync();
        await Report(agent, start, seq: 2, epoch: 2);
        await Assertions.Expect(page.Locator("[data-testid=trials-table] tr", new() { HasText = "0.6" })).ToBeVisibleAsync();
        await page.Mouse.UpAsync();

        await ExpectChipAsync(page, 1, "stop", "requested", "stop requested");
        Assert.Equal(start.TrialId, (await agent.NextAsync(HubMessage.KindOneofCase.StopTrial)).StopTrial.TrialId);
    }

    [Fact]
    public async Task StudyPage_CommandWorkload_PauseIsDisabledSayingWhy()
    {
        await using var dashboard = await RunningDashboard.StartAsync();
        await using var agent = await ScriptedAgent.ConnectWithCommandsAsync(dashboard.GrpcUri, RunningDashboard.Token, "declares", "train");
        var studyId = await dashboard.CreateStudyAsync(TwoTrials.Replace("fashion-mnist-cnn", "command:train", StringComparison.Ordinal));
        await using var browser = await Browser.LaunchAsync();
        await browser.OpenAsync(new Uri(dashboard.WebUri, $"/studies/{studyId}").ToString(), "[data-testid=trials-table]");
        await agent.NextAsync(HubMessage.KindOneofCase.StartTrial);

        await Assertions.Expect(State(browser.Page, 1)).ToContainTextAsync("running");
        var pause = browser.Page.Locator("[data-testid=pause-trial][data-trial='1']");
        await Assertions.Expect(pause).ToBeDisabledAsync();
        await Assertions.Expect(pause.Locator("xpath=..")).ToHaveAttributeAsync("title",
            "Pause: Trial #1 runs command train, which saves no checkpoint HyperTune can resume from: stop it instead");
        await Assertions.Expect(browser.Page.Locator("[data-testid=stop-trial][data-trial='1']")).ToBeEnabledAsync();
        await Assertions.Expect(browser.Page.Locator("[data-testid=kill-trial][data-trial='1']")).ToBeEnabledAsync();
    }

    private static ILocator State(IPage page, int trial) => page.Locator($"[data-testid=trial-state][data-trial='{trial}']");

    private static async Task ExpectChipAsync(IPage page, int trial, string command, string delivery, string label)
    {
        var chip = page.Locator($"[data-testid=command-state][data-trial='{trial}']");
        await Assertions.Expect(chip).ToHaveAttributeAsync("data-delivery", delivery);
        await Assertions.Expect(chip).ToHaveAttributeAsync("data-command", command);
        await Assertions.Expect(chip).ToHaveTextAsync(label);
    }

    private static Task Report(ScriptedAgent agent, StartTrial start, long seq, int epoch) =>
        agent.ReportAsync(start.TrialId, start.Attempt, seq, epoch, new Dictionary<string, double> { ["val_accuracy"] = 0.5 + (0.05 * epoch) }, epoch);
}
