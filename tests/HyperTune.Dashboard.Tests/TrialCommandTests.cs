using System.Net;
using System.Text.Json;
using HyperTune.Dashboard.Security;
using HyperTune.Protos.V1;
using HyperTune.TestSupport;
using Microsoft.Data.Sqlite;

namespace HyperTune.Dashboard.Tests;

/// <summary>
/// Stop, Kill, Pause, Resume and Re-run over the REST API against a scripted agent (a test double speaking the real
/// protocol): what reaches the agent, and each command's delivery state (requested, delivered, done, failed).
/// </summary>
public sealed class TrialCommandTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(15);

    private static string Spec(int trials = 1, string workload = "fashion-mnist-cnn") => $$"""
        { "name": "commands", "workload": "{{workload}}",
          "objective": { "metric": "val_accuracy", "direction": "maximize" },
          "sampler": { "type": "random", "seed": 7 },
          "budget": { "trials": {{trials}}, "parallel": 1 },
          "fixed": { "epochs": 5 },
          "space": { "lr": { "type": "float", "low": 0.001, "high": 0.1, "scale": "log" } } }
        """;

    [Fact]
    public async Task Stop_ByAnOperator_NamesThemInTheReasonTheAgentGetsAndOnTheCommand()
    {
        await using var dashboard = await RunningDashboard.StartAsync();
        await using var agent = await ScriptedAgent.ConnectAsync(dashboard.GrpcUri, RunningDashboard.Token);
        await dashboard.CreateStudyAsync(Spec());
        var start = (await agent.NextAsync(HubMessage.KindOneofCase.StartTrial)).StartTrial;
        using var olga = await dashboard.CreateUserAsync("olga", Roles.Operator);

        using var response = await olga.PostAsync($"/api/trials/{start.TrialId}/stop", null);
        var stop = (await agent.NextAsync(HubMessage.KindOneofCase.StopTrial)).StopTrial;
        await agent.ConfirmAsync(stop);
        await agent.FinishAsync(stop.TrialId, stop.Attempt, 1, TrialOutcome.Stopped, stop.Reason);
        var done = await WaitForCommandAsync(dashboard, start.TrialId, "done");

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal("stopped by olga", stop.Reason);
        Assert.Equal(("stopped", "stopped by olga"), (done.GetProperty("state").GetString(), done.GetProperty("reason").GetString()));
        Assert.Equal("olga", done.GetProperty("command").GetProperty("by").GetString());
    }

    [Fact]
    public async Task Stop_RunningTrial_GoesRequestedThenDeliveredThenStopped()
    {
        await using var dashboard = await RunningDashboard.StartAsync();
        await using var agent = await ScriptedAgent.ConnectAsync(dashboard.GrpcUri, RunningDashboard.Token);
        await dashboard.CreateStudyAsync(Spec());
        var start = (await agent.NextAsync(HubMessage.KindOneofCase.StartTrial)).StartTrial;
        await ReportAsync(agent, start, seq: 1, epoch: 1);

        var (status, requested) = await dashboard.PostAsync($"/api/trials/{start.TrialId}/stop", "");
        var stop = (await agent.NextAsync(HubMessage.KindOneofCase.StopTrial)).StopTrial;
        await agent.ConfirmAsync(stop);
        var delivered = await WaitForCommandAsync(dashboard, start.TrialId, "delivered");
        await agent.FinishAsync(stop.TrialId, stop.Attempt, 2, TrialOutcome.Stopped, stop.Reason);
        var done = await WaitForCommandAsync(dashboard, start.TrialId, "done");

        Assert.Equal(HttpStatusCode.Accepted, status);
        Assert.Equal(("stop", "requested", "stop requested"), Command(requested));
        Assert.Equal("running", requested.GetProperty("state").GetString());
        Assert.Equal((StopMode.Graceful, start.Attempt, "stopped by admin"), (stop.Mode, stop.Attempt, stop.Reason));
        Assert.Equal(("stop", "delivered", "stop delivered"), Command(delivered));
        Assert.Equal("agent scripted-agent has it", delivered.GetProperty("command").GetProperty("message").GetString());
        Assert.Equal(("stop", "done", "stopped"), Command(done));
        Assert.Equal("stopped", done.GetProperty("state").GetString());
    }

    [Fact]
    public async Task Stop_ClickedTwice_SendsOneStopTrialAndAnswersTheSameRequest()
    {
        await using var dashboard = await RunningDashboard.StartAsync();
        await using var agent = await ScriptedAgent.ConnectAsync(dashboard.GrpcUri, RunningDashboard.Token);
        await dashboard.CreateStudyAsync(Spec());
        var start = (await agent.NextAsync(HubMessage.KindOneofCase.StartTrial)).StartTrial;

        var first = await dashboard.PostAsync($"/api/trials/{start.TrialId}/stop", "");
        var second = await dashboard.PostAsync($"/api/trials/{start.TrialId}/stop", "");
        await agent.NextAsync(HubMessage.KindOneofCase.StopTrial);

        Assert.Equal((HttpStatusCode.Accepted, HttpStatusCode.Accepted), (first.Status, second.Status));
        Assert.Equal(Command(first.Body), Command(second.Body));
        Assert.Equal(first.Body.GetProperty("command").GetProperty("at").GetDateTimeOffset(), second.Body.GetProperty("command").GetProperty("at").GetDateTimeOffset());
        Assert.False(await agent.ReceivesWithinAsync(HubMessage.KindOneofCase.StopTrial, TimeSpan.FromSeconds(1)));
    }

    [Fact]
    public async Task Kill_RunningTrial_SendsKillModeAndEndsKilled()
    {
        await using var dashboard = await RunningDashboard.StartAsync();
        await using var agent = await ScriptedAgent.ConnectAsync(dashboard.GrpcUri, RunningDashboard.Token);
        await dashboard.CreateStudyAsync(Spec());
        var start = (await agent.NextAsync(HubMessage.KindOneofCase.StartTrial)).StartTrial;

        var (status, requested) = await dashboard.PostAsync($"/api/trials/{start.TrialId}/kill", "");
        var kill = (await agent.NextAsync(HubMessage.KindOneofCase.StopTrial)).StopTrial;
        await agent.ConfirmAsync(kill);
        await WaitForCommandAsync(dashboard, start.TrialId, "delivered");
        await agent.FinishAsync(kill.TrialId, kill.Attempt, 1, TrialOutcome.Stopped, kill.Reason);
        var done = await WaitForCommandAsync(dashboard, start.TrialId, "done");

        Assert.Equal(HttpStatusCode.Accepted, status);
        Assert.Equal(("kill", "requested", "kill requested"), Command(requested));
        Assert.Equal((StopMode.Kill, "killed by admin"), (kill.Mode, kill.Reason));
        Assert.Equal(("kill", "done", "killed"), Command(done));
        Assert.Equal(("stopped", "killed by admin"), (done.GetProperty("state").GetString(), done.GetProperty("reason").GetString()));
    }

    [Fact]
    public async Task StopThenKill_KillOutranksThePendingStopButStopAfterKillIsRefused()
    {
        await using var dashboard = await RunningDashboard.StartAsync();
        await using var agent = await ScriptedAgent.ConnectAsync(dashboard.GrpcUri, RunningDashboard.Token);
        await dashboard.CreateStudyAsync(Spec());
        var start = (await agent.NextAsync(HubMessage.KindOneofCase.StartTrial)).StartTrial;

        await dashboard.PostAsync($"/api/trials/{start.TrialId}/stop", "");
        var kill = await dashboard.PostAsync($"/api/trials/{start.TrialId}/kill", "");
        var stopAgain = await dashboard.PostAsync($"/api/trials/{start.TrialId}/stop", "");

        Assert.Equal(StopMode.Graceful, (await agent.NextAsync(HubMessage.KindOneofCase.StopTrial)).StopTrial.Mode);
        Assert.Equal(StopMode.Kill, (await agent.NextAsync(HubMessage.KindOneofCase.StopTrial)).StopTrial.Mode);
        Assert.Equal(("kill", "requested", "kill requested"), Command(kill.Body));
        Assert.Equal(HttpStatusCode.Conflict, stopAgain.Status);
        Assert.Equal("a kill of trial #1 is already on its way", stopAgain.Body.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task Stop_AgentSaysNotRunning_DashboardStopsItAndTheCommandFailsSayingWhy()
    {
        await using var dashboard = await RunningDashboard.StartAsync();
        await using var agent = await ScriptedAgent.ConnectAsync(dashboard.GrpcUri, RunningDashboard.Token);
        var studyId = await dashboard.CreateStudyAsync(Spec());
        var start = (await agent.NextAsync(HubMessage.KindOneofCase.StartTrial)).StartTrial;

        await dashboard.PostAsync($"/api/trials/{start.TrialId}/stop", "");
        await agent.ConfirmAsync((await agent.NextAsync(HubMessage.KindOneofCase.StopTrial)).StopTrial, found: false);
        var failed = await WaitForCommandAsync(dashboard, start.TrialId, "failed");

        Assert.Equal("stopped", failed.GetProperty("state").GetString());
        Assert.Equal("agent scripted-agent was not running trial #1 (attempt 1): the dashboard ended the trial as stopped itself",
            failed.GetProperty("command").GetProperty("message").GetString());
        Assert.Equal("stop failed", failed.GetProperty("command").GetProperty("label").GetString());
        var study = await dashboard.GetJsonAsync($"/api/studies/{studyId}");
        Assert.Equal("completed", study.GetProperty("study").GetProperty("state").GetString());
    }

    [Fact]
    public async Task Stop_AgentOffline_DashboardStopsItAtOnceAndTheCommandFailsSayingWhy()
    {
        await using var dashboard = await RunningDashboard.StartAsync(extra: new Dictionary<string, string?> { ["Dashboard:AgentLostAfterSeconds"] = "600" });
        var agent = await ScriptedAgent.ConnectAsync(dashboard.GrpcUri, RunningDashboard.Token);
        await dashboard.CreateStudyAsync(Spec());
        var start = (await agent.NextAsync(HubMessage.KindOneofCase.StartTrial)).StartTrial;
        await agent.DisposeAsync();
        await WaitForAsync(async () => !(await dashboard.GetJsonAsync("/api/agents"))[0].GetProperty("online").GetBoolean());

        var (status, stopped) = await dashboard.PostAsync($"/api/trials/{start.TrialId}/stop", "");

        Assert.Equal(HttpStatusCode.Accepted, status);
        Assert.Equal("stopped", stopped.GetProperty("state").GetString());
        Assert.Equal(("stop", "failed", "stop failed"), Command(stopped));
        Assert.Equal("agent scripted-agent is offline, so the stop could not be delivered: the dashboard ended the trial as stopped itself",
            stopped.GetProperty("command").GetProperty("message").GetString());
    }

    [Fact]
    public async Task PauseThenResume_ContinuesFromTheLastCheckpointOnTheNextAttempt()
    {
        await using var dashboard = await RunningDashboard.StartAsync();
        await using var agent = await ScriptedAgent.ConnectAsync(dashboard.GrpcUri, RunningDashboard.Token);
        var studyId = await dashboard.CreateStudyAsync(Spec());
        var start = (await agent.NextAsync(HubMessage.KindOneofCase.StartTrial)).StartTrial;
        await ReportAsync(agent, start, seq: 1, epoch: 1, 1);
        await ReportAsync(agent, start, seq: 2, epoch: 2, 1, 2);

        var (status, requested) = await dashboard.PostAsync($"/api/trials/{start.TrialId}/pause", "");
        var pause = (await agent.NextAsync(HubMessage.KindOneofCase.StopTrial)).StopTrial;
        await agent.ConfirmAsync(pause);
        await WaitForCommandAsync(dashboard, start.TrialId, "delivered");
        await agent.FinishAsync(pause.TrialId, pause.Attempt, 3, TrialOutcome.Paused, pause.Reason);
        var paused = await WaitForCommandAsync(dashboard, start.TrialId, "done");
        var waiting = (await dashboard.GetJsonAsync($"/api/studies/{studyId}")).GetProperty("study").GetProperty("state").GetString();
        var scheduledWhilePaused = await agent.ReceivesWithinAsync(HubMessage.KindOneofCase.StartTrial, TimeSpan.FromSeconds(1));

        var resume = await dashboard.PostAsync($"/api/trials/{start.TrialId}/resume", "");
        var restart = (await agent.NextAsync(HubMessage.KindOneofCase.StartTrial)).StartTrial;
        var delivered = await WaitForCommandAsync(dashboard, start.TrialId, "delivered");
        await ReportAsync(agent, restart, seq: 1, epoch: 3, 3);
        var resumed = await WaitForCommandAsync(dashboard, start.TrialId, "done");

        Assert.Equal(HttpStatusCode.Accepted, status);
        Assert.Equal(("pause", "requested", "pause requested"), Command(requested));
        Assert.Equal((StopMode.Pause, "paused by admin"), (pause.Mode, pause.Reason));
        Assert.Equal(("paused", "paused by admin; resume continues from its checkpoint after epoch 2"),
            (paused.GetProperty("state").GetString(), paused.GetProperty("reason").GetString()));
        Assert.Equal(("pause", "done", "paused"), Command(paused));
        Assert.Equal("waiting", waiting);
        Assert.False(scheduledWhilePaused);

        Assert.Equal(HttpStatusCode.Accepted, resume.Status);
        Assert.Equal(("queued", "resume", "requested"), (resume.Body.GetProperty("state").GetString(), Command(resume.Body).Item1, Command(resume.Body).Item2));
        Assert.Equal((start.TrialId, 2), (restart.TrialId, restart.Attempt));
        Assert.Equal((start.TrialId, 1, 2, false), (restart.Resume.Checkpoint.TrialId, restart.Resume.Checkpoint.Attempt, restart.Resume.Checkpoint.Epoch, restart.Resume.Fetch));
        Assert.Equal("attempt 2 handed to agent scripted-agent", delivered.GetProperty("command").GetProperty("message").GetString());
        Assert.Equal(("resume", "done", "resumed"), Command(resumed));
        Assert.Equal([1, 2, 3], resumed.GetProperty("epochs").EnumerateArray().Select(e => e.GetProperty("epoch").GetInt32()));
    }

    [Fact]
    public async Task Pause_CommandWorkload_IsRefusedBeforeAnythingIsSent()
    {
        await using var dashboard = await RunningDashboard.StartAsync();
        await using var agent = await ScriptedAgent.ConnectWithCommandsAsync(dashboard.GrpcUri, RunningDashboard.Token, "declares", "train");
        await dashboard.CreateStudyAsync(Spec(workload: "command:train"));
        var start = (await agent.NextAsync(HubMessage.KindOneofCase.StartTrial)).StartTrial;

        var (status, body) = await dashboard.PostAsync($"/api/trials/{start.TrialId}/pause", "");

        Assert.Equal(HttpStatusCode.Conflict, status);
        Assert.Equal("trial #1 runs command train, which saves no checkpoint HyperTune can resume from: stop it instead", body.GetProperty("detail").GetString());
        Assert.False(await agent.ReceivesWithinAsync(HubMessage.KindOneofCase.StopTrial, TimeSpan.FromSeconds(1)));
        var trial = (await dashboard.GetJsonAsync("/api/studies/1/trials"))[0];
        Assert.Equal(("running", JsonValueKind.Null), (trial.GetProperty("state").GetString(), trial.GetProperty("command").ValueKind));
    }

    [Fact]
    public async Task Rerun_FailedTrial_StartsANewAttemptFromScratchAndShowsOnlyItsEpochs()
    {
        await using var dashboard = await RunningDashboard.StartAsync();
        await using var agent = await ScriptedAgent.ConnectAsync(dashboard.GrpcUri, RunningDashboard.Token);
        await dashboard.CreateStudyAsync(Spec());
        var start = (await agent.NextAsync(HubMessage.KindOneofCase.StartTrial)).StartTrial;
        await ReportAsync(agent, start, seq: 1, epoch: 1, 1);
        await agent.FinishAsync(start.TrialId, start.Attempt, 2, TrialOutcome.Failed, "CUDA out of memory");
        await WaitForAsync(async () => (await dashboard.GetJsonAsync($"/api/studies/1/trials"))[0].GetProperty("state").GetString() == "failed");

        var (status, requested) = await dashboard.PostAsync($"/api/trials/{start.TrialId}/rerun", "");
        var again = (await agent.NextAsync(HubMessage.KindOneofCase.StartTrial)).StartTrial;
        await WaitForCommandAsync(dashboard, start.TrialId, "delivered");
        await agent.ReportAsync(again.TrialId, again.Attempt, 1, 1, new Dictionary<string, double> { ["val_accuracy"] = 0.2 });
        var running = await WaitForCommandAsync(dashboard, start.TrialId, "done");

        Assert.Equal(HttpStatusCode.Accepted, status);
        Assert.Equal(("queued", "re-run by admin after it failed"), (requested.GetProperty("state").GetString(), requested.GetProperty("reason").GetString()));
        Assert.Equal(("rerun", "requested", "re-run requested"), Command(requested));
        Assert.Equal((start.TrialId, 2, null), (again.TrialId, again.Attempt, again.Resume));
        Assert.Equal(("rerun", "done", "re-run started"), Command(running));
        var epochs = running.GetProperty("epochs").EnumerateArray().ToList();
        Assert.Equal(0.2, Assert.Single(epochs).GetProperty("metrics").GetProperty("val_accuracy").GetDouble());
        Assert.Equal(0.2, running.GetProperty("bestValue").GetDouble());
        Assert.Equal(2L, await CountReportsAsync(dashboard, start.TrialId));
    }

    [Theory]
    [InlineData("rerun", "completed", "trial #1 completed: clone it to train those parameters again")]
    [InlineData("resume", "completed", "trial #1 is completed, not paused")]
    [InlineData("stop", "completed", "trial #1 is already completed")]
    [InlineData("pause", "completed", "trial #1 is already completed")]
    [InlineData("rerun", "running", "trial #1 is running, not stopped, pruned, failed or diverged")]
    [InlineData("resume", "running", "trial #1 is running, not paused")]
    public async Task Command_StateDoesNotAllowIt_Returns409WithASentence(string command, string state, string expected)
    {
        await using var dashboard = await RunningDashboard.StartAsync();
        await using var agent = await ScriptedAgent.ConnectAsync(dashboard.GrpcUri, RunningDashboard.Token);
        await dashboard.CreateStudyAsync(Spec());
        var start = (await agent.NextAsync(HubMessage.KindOneofCase.StartTrial)).StartTrial;
        if (state == "completed")
        {
            await agent.FinishAsync(start.TrialId, start.Attempt, 1, TrialOutcome.Completed);
            await WaitForAsync(async () => (await dashboard.GetJsonAsync($"/api/studies/1/trials"))[0].GetProperty("state").GetString() == "completed");
        }

        var (status, body) = await dashboard.PostAsync($"/api/trials/{start.TrialId}/{command}", "");

        Assert.Equal(HttpStatusCode.Conflict, status);
        Assert.Equal(expected, body.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task StopThenRerun_AskTellTrial_StopsHereAndRefusesTheRerun()
    {
        await using var dashboard = await RunningDashboard.StartAsync();
        var studyId = await dashboard.CreateStudyAsync(Spec(workload: "external"));
        var trialId = (await dashboard.PostAsync($"/api/studies/{studyId}/ask", "")).Body.GetProperty("trialId").GetInt64();

        var stop = await dashboard.PostAsync($"/api/trials/{trialId}/stop", "");
        var pause = await dashboard.PostAsync($"/api/trials/{trialId}/pause", "");
        var rerun = await dashboard.PostAsync($"/api/trials/{trialId}/rerun", "");

        Assert.Equal(("stopped", "stop", "done", "stopped"), (stop.Body.GetProperty("state").GetString(), Command(stop.Body).Item1, Command(stop.Body).Item2, Command(stop.Body).Item3));
        Assert.Equal("trial #1 runs outside HyperTune (ask/tell): the dashboard ended the trial as stopped", stop.Body.GetProperty("command").GetProperty("message").GetString());
        Assert.Equal((HttpStatusCode.Conflict, "trial #1 runs outside HyperTune (ask/tell): it cannot be paused"), (pause.Status, pause.Body.GetProperty("detail").GetString()));
        Assert.Equal((HttpStatusCode.Conflict, "trial #1 ran outside HyperTune (ask/tell): ask for a new trial instead"), (rerun.Status, rerun.Body.GetProperty("detail").GetString()));
    }

    [Fact]
    public async Task Stop_PausedTrial_StopsItAtOnceWithoutTheAgent()
    {
        await using var dashboard = await RunningDashboard.StartAsync();
        await using var agent = await ScriptedAgent.ConnectAsync(dashboard.GrpcUri, RunningDashboard.Token);
        await dashboard.CreateStudyAsync(Spec());
        var start = (await agent.NextAsync(HubMessage.KindOneofCase.StartTrial)).StartTrial;
        await dashboard.PostAsync($"/api/trials/{start.TrialId}/pause", "");
        var pause = (await agent.NextAsync(HubMessage.KindOneofCase.StopTrial)).StopTrial;
        await agent.FinishAsync(pause.TrialId, pause.Attempt, 1, TrialOutcome.Paused, pause.Reason);
        var paused = await WaitForCommandAsync(dashboard, start.TrialId, "done");

        var (status, stopped) = await dashboard.PostAsync($"/api/trials/{start.TrialId}/stop", "");

        Assert.Equal("paused by admin; resume starts it over from epoch 1 (it has no checkpoint yet)", paused.GetProperty("reason").GetString());
        Assert.Equal(HttpStatusCode.Accepted, status);
        Assert.Equal(("stopped", "stopped by admin while paused"), (stopped.GetProperty("state").GetString(), stopped.GetProperty("reason").GetString()));
        Assert.Equal(("stop", "done", "stopped"), Command(stopped));
        Assert.False(await agent.ReceivesWithinAsync(HubMessage.KindOneofCase.StopTrial, TimeSpan.FromSeconds(1)));
    }

    [Fact]
    public async Task Reconnect_StopNeverConfirmed_IsSentAgainOnTheNewStream()
    {
        await using var dashboard = await RunningDashboard.StartAsync();
        var first = await ScriptedAgent.ConnectAsync(dashboard.GrpcUri, RunningDashboard.Token);
        await dashboard.CreateStudyAsync(Spec());
        var start = (await first.NextAsync(HubMessage.KindOneofCase.StartTrial)).StartTrial;
        await dashboard.PostAsync($"/api/trials/{start.TrialId}/stop", "");
        await first.NextAsync(HubMessage.KindOneofCase.StopTrial);
        await first.DisposeAsync();

        var hello = new Hello { AgentId = "scripted-agent", HostName = "test-host", Slots = 1, Version = "test" };
        hello.Workloads.Add("fashion-mnist-cnn");
        hello.Running.Add(new TrialRef { TrialId = start.TrialId, Attempt = start.Attempt });
        await using var second = await ScriptedAgent.ConnectAsync(dashboard.GrpcUri, RunningDashboard.Token, hello);
        var again = (await second.NextAsync(HubMessage.KindOneofCase.StopTrial)).StopTrial;

        Assert.Equal((start.TrialId, start.Attempt, StopMode.Graceful), (again.TrialId, again.Attempt, again.Mode));
    }

    private static Task ReportAsync(ScriptedAgent agent, StartTrial start, long seq, int epoch, params int[] checkpoints) =>
        agent.ReportAsync(start.TrialId, start.Attempt, seq, epoch, new Dictionary<string, double> { ["val_accuracy"] = 0.5 + (0.01 * epoch) }, checkpoints);

    private static (string, string, string) Command(JsonElement trial)
    {
        var command = trial.GetProperty("command");
        return (command.GetProperty("command").GetString()!, command.GetProperty("delivery").GetString()!, command.GetProperty("label").GetString()!);
    }

    /// <summary>The trial from GET /api/studies/{id}/trials once its command has reached <paramref name="delivery"/>.</summary>
    private static async Task<JsonElement> WaitForCommandAsync(RunningDashboard dashboard, long trialId, string delivery)
    {
        JsonElement? found = null;
        await WaitForAsync(async () =>
        {
            foreach (var study in (await dashboard.GetJsonAsync("/api/studies")).EnumerateArray())
            {
                foreach (var trial in (await dashboard.GetJsonAsync($"/api/studies/{study.GetProperty("id").GetInt64()}/trials")).EnumerateArray())
                {
                    if (trial.GetProperty("id").GetInt64() == trialId && trial.TryGetProperty("command", out var c) && c.ValueKind == JsonValueKind.Object
                        && c.GetProperty("delivery").GetString() == delivery)
                    {
                        found = trial;
                    }
                }
            }

            return found is not null;
        });
        return found!.Value;
    }

    private static async Task WaitForAsync(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"the condition did not hold within {Patience}");
            }

            await Task.Delay(50);
        }
    }

    private static async Task<long> CountReportsAsync(RunningDashboard dashboard, long trialId)
    {
        await using var db = new SqliteConnection($"Data Source={dashboard.DatabasePath};Mode=ReadOnly");
        await db.OpenAsync();
        using var count = db.CreateCommand();
        count.CommandText = "SELECT COUNT(*) FROM epoch_reports WHERE TrialId = $id";
        count.Parameters.AddWithValue("$id", trialId);
        return (long)(await count.ExecuteScalarAsync())!;
    }
}
