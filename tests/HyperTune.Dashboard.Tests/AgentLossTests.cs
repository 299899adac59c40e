using System.Text.Json;
using HyperTune.Protos.V1;
using HyperTune.TestSupport;
using Microsoft.Data.Sqlite;

namespace HyperTune.Dashboard.Tests;

/// <summary>A lost agent (silent, gone, or back without its trials): its stream closed, its trials re-queued within the budget, its stale attempts fenced off.</summary>
public sealed class AgentLossTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    private static string Spec(int maxRetries) => $$"""
        { "name": "loss", "workload": "fashion-mnist-cnn",
          "objective": { "metric": "val_accuracy", "direction": "maximize" },
          "sampler": { "type": "random", "seed": 3 },
          "budget": { "trials": 1, "parallel": 1, "max_retries": {{maxRetries}} },
          "fixed": { "epochs": 3 },
          "space": { "lr": { "type": "float", "low": 0.001, "high": 0.1, "scale": "log" } } }
        """;

    [Fact]
    public async Task SilentAgent_PastTheWindow_StreamIsClosedAndTheAgentShownOffline()
    {
        await using var dashboard = await RunningDashboard.StartAsync(extra: new Dictionary<string, string?> { ["Dashboard:AgentSilentAfterSeconds"] = "2" });
        await using var chatty = await ScriptedAgent.ConnectAsync(dashboard.GrpcUri, RunningDashboard.Token, "chatty");
        await using var silent = await ScriptedAgent.ConnectAsync(dashboard.GrpcUri, RunningDashboard.Token, "silent");
        await silent.NextAsync(HubMessage.KindOneofCase.Welcome);

        // Heartbeats keep one alive through the other's window and well past it.
        for (var i = 0; !silent.Ended.IsCompleted && i < 100; i++)
        {
            await chatty.HeartbeatAsync(busySlots: 0);
            await Task.WhenAny(silent.Ended, Task.Delay(500));
        }

        await chatty.HeartbeatAsync(busySlots: 0);
        var online = (await dashboard.GetJsonAsync("/api/agents")).EnumerateArray()
            .ToDictionary(a => a.GetProperty("id").GetString()!, a => a.GetProperty("online").GetBoolean());

        Assert.True(silent.Ended.IsCompleted, "the silent agent's stream is still open");
        Assert.False(chatty.Ended.IsCompleted, "the heartbeating agent's stream was closed");
        Assert.Equal(new Dictionary<string, bool> { ["chatty"] = true, ["silent"] = false }, online);
    }

    [Fact]
    public async Task LostAgent_BackRunningTheOldAttempt_TrialResumesAsANewAttemptAndTheOldOnesReportsAreRefused()
    {
        await using var dashboard = await RunningDashboard.StartAsync(extra: new Dictionary<string, string?> { ["Dashboard:AgentLostAfterSeconds"] = "1" });
        var (studyId, start) = await FirstEpochThenGoneAsync(dashboard);
        var queued = await WaitForTrialAsync(dashboard, studyId, t => t.GetProperty("state").GetString() == "queued");

        // The agent was only cut off: it comes back still training attempt 1, and its late epoch and finish arrive.
        var hello = new Hello { AgentId = "scripted-agent", HostName = "test-host", Slots = 1, Version = "test" };
        hello.Workloads.Add("fashion-mnist-cnn");
        hello.Running.Add(new TrialRef { TrialId = start.TrialId, Attempt = start.Attempt });
        await using var back = await ScriptedAgent.ConnectAsync(dashboard.GrpcUri, RunningDashboard.Token, hello);
        var kill = (await back.NextAsync(HubMessage.KindOneofCase.StopTrial)).StopTrial;
        await back.ReportAsync(start.TrialId, start.Attempt, seq: 2, epoch: 2, Metrics(2), checkpointEpochs: 2);
        var lateAck = (await back.NextAsync(HubMessage.KindOneofCase.Ack)).Ack;
        await back.FinishAsync(start.TrialId, start.Attempt, seq: 3, TrialOutcome.Stopped, kill.Reason);
        var resume = (await back.NextAsync(HubMessage.KindOneofCase.StartTrial)).StartTrial;
        await back.ReportAsync(resume.TrialId, resume.Attempt, seq: 1, epoch: 2, Metrics(2), checkpointEpochs: 2);
        await back.ReportAsync(resume.TrialId, resume.Attempt, seq: 2, epoch: 3, Metrics(3), checkpointEpochs: 3);
        await back.FinishAsync(resume.TrialId, resume.Attempt, seq: 3, TrialOutcome.Completed);
        var done = await WaitForTrialAsync(dashboard, studyId, t => t.GetProperty("state").GetString() == "completed");

        Assert.Equal("agent scripted-agent lost: no connection for 1 s; re-queued (retry 1 of 2), continues from its checkpoint after epoch 1",
            queued.GetProperty("reason").GetString());
        Assert.Equal((start.TrialId, 1, StopMode.Kill), (kill.TrialId, kill.Attempt, kill.Mode));
        Assert.Equal((start.TrialId, 1, 2L), (lateAck.TrialId, lateAck.Attempt, lateAck.Seq));
        Assert.Equal((start.TrialId, 2, 1, 1), (resume.TrialId, resume.Attempt, resume.Resume.Checkpoint.Attempt, resume.Resume.Checkpoint.Epoch));
        Assert.Equal([1, 2, 3], done.GetProperty("epochs").EnumerateArray().Select(e => e.GetProperty("epoch").GetInt32()));
        Assert.Equal(2, done.GetProperty("attempt").GetInt32());
    }

    [Fact]
    public async Task LostAgent_RetryBudgetSpent_TrialFailsSayingSo()
    {
        await using var dashboard = await RunningDashboard.StartAsync(extra: new Dictionary<string, string?> { ["Dashboard:AgentLostAfterSeconds"] = "1" });
        var agent = await ScriptedAgent.ConnectAsync(dashboard.GrpcUri, RunningDashboard.Token);
        var studyId = await dashboard.CreateStudyAsync(Spec(maxRetries: 0));
        await agent.NextAsync(HubMessage.KindOneofCase.StartTrial);
        await agent.DisposeAsync();

        var failed = await WaitForTrialAsync(dashboard, studyId, t => t.GetProperty("state").GetString() == "failed");

        Assert.Equal("agent scripted-agent lost: no connection for 1 s; not re-queued: the study's budget.max_retries is 0",
            failed.GetProperty("reason").GetString());
    }

    [Fact]
    public async Task DashboardRestarted_AgentNeverComesBack_ItsRunningTrialIsRequeuedAfterTheGrace()
    {
        var dataDir = Directory.CreateTempSubdirectory("hypertune-test-").FullName;
        long studyId;

        // The first dashboard would wait 10 minutes: only the restarted one's own watch can re-queue the trial.
        await using (var first = await RunningDashboard.StartAsync(dataDir, new Dictionary<string, string?> { ["Dashboard:AgentLostAfterSeconds"] = "600" }))
        {
            first.DeleteDataOnDispose = false;
            await using var agent = await ScriptedAgent.ConnectAsync(first.GrpcUri, RunningDashboard.Token);
            studyId = await first.CreateStudyAsync(Spec(maxRetries: 2));
            await agent.NextAsync(HubMessage.KindOneofCase.StartTrial);
        }

        await using var second = await RunningDashboard.StartAsync(dataDir, new Dictionary<string, string?> { ["Dashboard:AgentLostAfterSeconds"] = "1" });
        var queued = await WaitForTrialAsync(second, studyId, t => t.GetProperty("state").GetString() == "queued");

        Assert.Equal("agent scripted-agent lost: no connection for 1 s; re-queued (retry 1 of 2), starts it over from epoch 1 (it has no checkpoint yet)",
            queued.GetProperty("reason").GetString());
    }

    [Fact]
    public async Task RestartedAgent_ReplaysItsLastEpochAfterHello_TrialResumesAfterThatEpoch()
    {
        await using var dashboard = await RunningDashboard.StartAsync();
        var (studyId, start) = await FirstEpochThenGoneAsync(dashboard);

        // Killed after spooling epoch 2 but before its ack: restarted, it runs nothing and replays that report first.
        var hello = new Hello { AgentId = "scripted-agent", HostName = "test-host", Slots = 1, Version = "test", Replaying = 1 };
        hello.Workloads.Add("fashion-mnist-cnn");
        await using var restarted = await ScriptedAgent.ConnectAsync(dashboard.GrpcUri, RunningDashboard.Token, hello);
        await restarted.NextAsync(HubMessage.KindOneofCase.Welcome);
        var startedBeforeReplay = await restarted.ReceivesWithinAsync(HubMessage.KindOneofCase.StartTrial, TimeSpan.FromMilliseconds(500));
        await restarted.ReportAsync(start.TrialId, start.Attempt, seq: 2, epoch: 2, Metrics(2), checkpointEpochs: 2);
        var resume = (await restarted.NextAsync(HubMessage.KindOneofCase.StartTrial)).StartTrial;

        Assert.False(startedBeforeReplay, "the trial was re-queued before the agent's replay was stored");
        Assert.Equal((2, 1, 2), (resume.Attempt, resume.Resume.Checkpoint.Attempt, resume.Resume.Checkpoint.Epoch));
    }

    [Fact]
    public async Task LostAgent_NeverBack_AnotherAgentStartsTheTrialOverInsteadOfFailingOnItsCheckpoint()
    {
        await using var dashboard = await RunningDashboard.StartAsync(extra: new Dictionary<string, string?> { ["Dashboard:AgentLostAfterSeconds"] = "1" });
        var (studyId, start) = await FirstEpochThenGoneAsync(dashboard);
        var queued = await WaitForTrialAsync(dashboard, studyId, t => t.GetProperty("state").GetString() == "queued");

        // Only another agent is left: the checkpoint after epoch 1 stayed on the one that was lost.
        await using var other = await ScriptedAgent.ConnectAsync(dashboard.GrpcUri, RunningDashboard.Token, "other-agent");
        var restart = (await other.NextAsync(HubMessage.KindOneofCase.StartTrial)).StartTrial;
        var running = await WaitForTrialAsync(dashboard, studyId, t => t.GetProperty("state").GetString() == "running");
        for (var epoch = 1; epoch <= 3; epoch++)
        {
            await other.ReportAsync(restart.TrialId, restart.Attempt, seq: epoch, epoch: epoch, Metrics(epoch), checkpointEpochs: epoch);
        }

        await other.FinishAsync(restart.TrialId, restart.Attempt, seq: 4, TrialOutcome.Completed);
        var done = await WaitForTrialAsync(dashboard, studyId, t => t.GetProperty("state").GetString() == "completed");

        Assert.Equal("agent scripted-agent lost: no connection for 1 s; re-queued (retry 1 of 2), continues from its checkpoint after epoch 1",
            queued.GetProperty("reason").GetString());
        Assert.Equal((start.TrialId, 2, false), (restart.TrialId, restart.Attempt, restart.Resume is not null));
        Assert.Equal("started over from epoch 1 on agent other-agent: its checkpoint after epoch 1 is on agent scripted-agent, which is not connected",
            running.GetProperty("reason").GetString());
        Assert.Equal([1, 2, 3], done.GetProperty("epochs").EnumerateArray().Select(e => e.GetProperty("epoch").GetInt32()));
        Assert.Equal(("other-agent", 2), (done.GetProperty("agentId").GetString(), done.GetProperty("attempt").GetInt32()));
    }

    [Fact]
    public async Task LostAgent_DatabaseLockedPastEveryTimeoutWhenItsTrialIsRequeued_TriesAgainOnceTheLockIsGone()
    {
        await using var dashboard = await RunningDashboard.StartAsync(extra: new Dictionary<string, string?> { ["Dashboard:AgentLostAfterSeconds"] = "1" });
        var agent = await ScriptedAgent.ConnectAsync(dashboard.GrpcUri, RunningDashboard.Token);
        var studyId = await dashboard.CreateStudyAsync(Spec(maxRetries: 2));
        await agent.NextAsync(HubMessage.KindOneofCase.StartTrial);

        // Another writer holds the database for longer than a write waits (busy_timeout 10 s, retried up to the 30 s
        // command timeout), so the first re-queue fails; the trial is read through the lock holder meanwhile.
        await using (var locker = new SqliteConnection($"Data Source={dashboard.DatabasePath};Pooling=False"))
        {
            await locker.OpenAsync();
            await using var command = locker.CreateCommand();
            command.CommandText = "BEGIN IMMEDIATE";
            await command.ExecuteNonQueryAsync();
            await agent.DisposeAsync();
            await Task.Delay(TimeSpan.FromSeconds(60));
            command.CommandText = "SELECT State FROM trials";
            Assert.Equal("Running", await command.ExecuteScalarAsync());
        }

        var queued = await WaitForTrialAsync(dashboard, studyId, t => t.GetProperty("state").GetString() == "queued");

        Assert.StartsWith("agent scripted-agent lost: no connection for 1 s; re-queued (retry 1 of 2)", queued.GetProperty("reason").GetString(), StringComparison.Ordinal);
    }

    /// <summary>An agent takes the study's trial, reports epoch 1 with its checkpoint, has it acknowledged, and vanishes.</summary>
    private static async Task<(long StudyId, StartTrial Start)> FirstEpochThenGoneAsync(RunningDashboard dashboard)
    {
        var first = await ScriptedAgent.ConnectAsync(dashboard.GrpcUri, RunningDashboard.Token);
        var studyId = await dashboard.CreateStudyAsync(Spec(maxRetries: 2));
        var start = (await first.NextAsync(HubMessage.KindOneofCase.StartTrial)).StartTrial;
        await first.ReportAsync(start.TrialId, start.Attempt, seq: 1, epoch: 1, Metrics(1), checkpointEpochs: 1);
        await first.NextAsync(HubMessage.KindOneofCase.Ack);
        await first.DisposeAsync();
        return (studyId, start);
    }

    private static Dictionary<string, double> Metrics(int epoch) => new() { ["val_accuracy"] = 0.5 + (0.01 * epoch) };

    private static async Task<JsonElement> WaitForTrialAsync(RunningDashboard dashboard, long studyId, Func<JsonElement, bool> condition) =>
        (await dashboard.WaitForTrialsAsync(studyId, t => t.EnumerateArray().Any(condition), Patience)).EnumerateArray().First(condition);
}
