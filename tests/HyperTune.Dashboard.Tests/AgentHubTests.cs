using System.Text.Json;
using Grpc.Core;
using HyperTune.Protos.V1;
using HyperTune.TestSupport;
using HyperTune.Dashboard.Data;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;

namespace HyperTune.Dashboard.Tests;

public sealed class AgentHubTests
{
    private const string OneTrialSpec = """
        { "name": "hub", "workload": "fashion-mnist-cnn",
          "objective": { "metric": "val_accuracy", "direction": "maximize" },
          "sampler": { "type": "random", "seed": 7 },
          "budget": { "trials": 1, "parallel": 1 },
          "fixed": { "epochs": 2 },
          "space": { "lr": { "type": "float", "low": 0.001, "high": 0.1, "scale": "log" } } }
        """;

    [Theory]
    [InlineData(null)]
    [InlineData("wrong-token-wrong-token-wrong")]
    public async Task Connect_WithMissingOrWrongToken_IsUnauthenticatedAndStoresNothing(string? token)
    {
        await using var dashboard = await RunningDashboard.StartAsync();
        await using var agent = await ScriptedAgent.ConnectAsync(dashboard.GrpcUri, token, agentId: "intruder");

        var error = await Assert.ThrowsAsync<RpcException>(() => agent.NextAsync(HubMessage.KindOneofCase.Welcome));

        Assert.Equal(StatusCode.Unauthenticated, error.StatusCode);
        var agents = await dashboard.GetJsonAsync("/api/agents");
        Assert.Equal(0, agents.GetArrayLength());
    }

    [Fact]
    public async Task EpochReport_ReplayedWithSameSeq_IsStoredOnceAndAcknowledgedEachTime()
    {
        await using var dashboard = await RunningDashboard.StartAsync();
        await using var agent = await ScriptedAgent.ConnectAsync(dashboard.GrpcUri, RunningDashboard.Token);
        await agent.NextAsync(HubMessage.KindOneofCase.Welcome);
        var studyId = await dashboard.CreateStudyAsync(OneTrialSpec);
        var start = (await agent.NextAsync(HubMessage.KindOneofCase.StartTrial)).StartTrial;

        var metrics = new Dictionary<string, double> { ["train_loss"] = 0.9, ["val_loss"] = 0.8, ["val_accuracy"] = 0.71 };
        await agent.ReportAsync(start.TrialId, start.Attempt, seq: 1, epoch: 1, metrics);
        var first = (await agent.NextAsync(HubMessage.KindOneofCase.Ack)).Ack;
        await agent.ReportAsync(start.TrialId, start.Attempt, seq: 1, epoch: 1, metrics);
        var second = (await agent.NextAsync(HubMessage.KindOneofCase.Ack)).Ack;

        Assert.Equal((start.TrialId, 1L), (first.TrialId, first.Seq));
        Assert.Equal((start.TrialId, 1L), (second.TrialId, second.Seq));
        var trials = await dashboard.GetJsonAsync($"/api/studies/{studyId}/trials");
        var epochs = trials[0].GetProperty("epochs");
        Assert.Equal(1, epochs.GetArrayLength());
        Assert.Equal(0.71, epochs[0].GetProperty("metrics").GetProperty("val_accuracy").GetDouble());
        await using var db = new SqliteConnection($"Data Source={dashboard.DatabasePath}");
        await db.OpenAsync();
        using var count = db.CreateCommand();
        count.CommandText = "SELECT COUNT(*) FROM epoch_reports";
        Assert.Equal(1L, (long)(await count.ExecuteScalarAsync())!);
    }

    [Fact]
    public async Task EpochReports_BurstWithoutWaiting_AreEachStoredOnceAndAcknowledgedInOrder()
    {
        await using var dashboard = await RunningDashboard.StartAsync();
        await using var agent = await ScriptedAgent.ConnectAsync(dashboard.GrpcUri, RunningDashboard.Token);
        var studyId = await dashboard.CreateStudyAsync(OneTrialSpec);
        var start = (await agent.NextAsync(HubMessage.KindOneofCase.StartTrial)).StartTrial;

        // 300 reports (every tenth sent twice) written back to back: the hub stores what has piled up in batches.
        var sent = new List<long>();
        for (var seq = 1; seq <= 300; seq++)
        {
            await agent.ReportAsync(start.TrialId, start.Attempt, seq, seq, new Dictionary<string, double> { ["val_accuracy"] = seq / 1000.0 });
            sent.Add(seq);
            if (seq % 10 == 0)
            {
                await agent.ReportAsync(start.TrialId, start.Attempt, seq, seq, new Dictionary<string, double> { ["val_accuracy"] = seq / 1000.0 });
                sent.Add(seq);
            }
        }

        var acked = new List<long>();
        while (acked.Count < sent.Count)
        {
            acked.Add((await agent.NextAsync(HubMessage.KindOneofCase.Ack)).Ack.Seq);
        }

        Assert.Equal(sent, acked);
        await using var db = new SqliteConnection($"Data Source={dashboard.DatabasePath}");
        await db.OpenAsync();
        using var count = db.CreateCommand();
        count.CommandText = "SELECT COUNT(*), COUNT(DISTINCT seq) FROM epoch_reports";
        using var reader = await count.ExecuteReaderAsync();
        await reader.ReadAsync();
        Assert.Equal((300L, 300L), (reader.GetInt64(0), reader.GetInt64(1)));
        var trial = (await dashboard.GetJsonAsync($"/api/studies/{studyId}/trials"))[0];
        Assert.Equal(0.3, trial.GetProperty("bestValue").GetDouble());
    }

    [Fact]
    public async Task RecordEpochs_OneBatchWithReplayStaleAndUnknown_StoresOnlyTheNewReports()
    {
        await using var dashboard = await RunningDashboard.StartAsync();
        await using var agent = await ScriptedAgent.ConnectAsync(dashboard.GrpcUri, RunningDashboard.Token);
        await dashboard.CreateStudyAsync(OneTrialSpec);
        var start = (await agent.NextAsync(HubMessage.KindOneofCase.StartTrial)).StartTrial;
        var store = dashboard.App.Services.GetRequiredService<HyperTune.Dashboard.Data.StudyStore>();
        Dictionary<string, double> Accuracy(double v) => new() { ["val_accuracy"] = v };
        await store.RecordEpochAsync(start.TrialId, start.Attempt, 1, 1, Accuracy(0.5), null);

        var results = await store.RecordEpochsAsync(
        [
            new(start.TrialId, start.Attempt, 1, 1, Accuracy(0.9), null, null),
            new(start.TrialId, start.Attempt, 2, 2, Accuracy(0.6), null, null),
            new(start.TrialId, start.Attempt, 2, 2, Accuracy(0.7), null, null),
            new(start.TrialId, start.Attempt + 1, 3, 3, Accuracy(0.8), null, null),
            new(start.TrialId + 1000, 1, 1, 1, Accuracy(0.8), null, null),
            new(start.TrialId, start.Attempt, 3, 3, Accuracy(0.55), null, null),
        ]);

        Assert.Equal(
            [IngestOutcome.Duplicate, IngestOutcome.Stored, IngestOutcome.Duplicate, IngestOutcome.StaleAttempt, IngestOutcome.UnknownTrial, IngestOutcome.Stored],
            results.Select(r => r.Outcome));
        var trial = results[^1].Trial!;
        Assert.Equal((3, 0.55, 0.6), (trial.EpochCount, trial.LastValue!.Value, trial.BestValue!.Value));
    }

    [Fact]
    public async Task EpochReport_WithNaNAndInfinity_KeepsThemFaithfully()
    {
        await using var dashboard = await RunningDashboard.StartAsync();
        await using var agent = await ScriptedAgent.ConnectAsync(dashboard.GrpcUri, RunningDashboard.Token);
        var studyId = await dashboard.CreateStudyAsync(OneTrialSpec);
        var start = (await agent.NextAsync(HubMessage.KindOneofCase.StartTrial)).StartTrial;

        await agent.ReportAsync(start.TrialId, start.Attempt, 1, 1,
            new Dictionary<string, double> { ["train_loss"] = double.NaN, ["val_loss"] = double.PositiveInfinity, ["grad"] = double.NegativeInfinity, ["val_accuracy"] = 0.1 });
        await agent.NextAsync(HubMessage.KindOneofCase.Ack);

        var metrics = (await dashboard.GetJsonAsync($"/api/studies/{studyId}/trials"))[0].GetProperty("epochs")[0].GetProperty("metrics");
        Assert.Equal("NaN", metrics.GetProperty("train_loss").GetString());
        Assert.Equal("Infinity", metrics.GetProperty("val_loss").GetString());
        Assert.Equal("-Infinity", metrics.GetProperty("grad").GetString());
        Assert.Equal(0.1, metrics.GetProperty("val_accuracy").GetDouble());
    }

    [Fact]
    public async Task Scheduler_WithParallelOne_StartsOneTrialAtATimeUntilBudgetIsSpent()
    {
        await using var dashboard = await RunningDashboard.StartAsync();
        await using var agent = await ScriptedAgent.ConnectAsync(dashboard.GrpcUri, RunningDashboard.Token, slots: 3);
        var studyId = await dashboard.CreateStudyAsync(OneTrialSpec.Replace("\"trials\": 1", "\"trials\": 2", StringComparison.Ordinal));

        var first = (await agent.NextAsync(HubMessage.KindOneofCase.StartTrial)).StartTrial;
        Assert.False(await agent.ReceivesWithinAsync(HubMessage.KindOneofCase.StartTrial, TimeSpan.FromSeconds(1)));
        await agent.FinishAsync(first.TrialId, first.Attempt, 1, TrialOutcome.Completed);
        var second = (await agent.NextAsync(HubMessage.KindOneofCase.StartTrial)).StartTrial;
        await agent.FinishAsync(second.TrialId, second.Attempt, 1, TrialOutcome.Completed);

        Assert.NotEqual(first.TrialId, second.TrialId);
        Assert.Equal(2.0, first.Params["epochs"].Number);
        Assert.InRange(first.Params["lr"].Number, 0.001, 0.1);
        Assert.False(await agent.ReceivesWithinAsync(HubMessage.KindOneofCase.StartTrial, TimeSpan.FromSeconds(1)));
        var study = await dashboard.GetJsonAsync($"/api/studies/{studyId}");
        Assert.Equal("completed", study.GetProperty("study").GetProperty("state").GetString());
    }

    [Fact]
    public async Task StopTrial_OnRunningTrial_ReachesAgentAndKeepsItsEpochs()
    {
        await using var dashboard = await RunningDashboard.StartAsync();
        await using var agent = await ScriptedAgent.ConnectAsync(dashboard.GrpcUri, RunningDashboard.Token);
        var studyId = await dashboard.CreateStudyAsync(OneTrialSpec);
        var start = (await agent.NextAsync(HubMessage.KindOneofCase.StartTrial)).StartTrial;
        await agent.ReportAsync(start.TrialId, start.Attempt, 1, 1, new Dictionary<string, double> { ["val_accuracy"] = 0.5 });
        await agent.NextAsync(HubMessage.KindOneofCase.Ack);

        using var response = await dashboard.Http.PostAsync($"/api/trials/{start.TrialId}/stop", null);
        var stop = (await agent.NextAsync(HubMessage.KindOneofCase.StopTrial)).StopTrial;
        await agent.FinishAsync(stop.TrialId, stop.Attempt, 2, TrialOutcome.Stopped, stop.Reason);

        Assert.Equal(System.Net.HttpStatusCode.Accepted, response.StatusCode);
        var trial = (await dashboard.WaitForTrialsAsync(studyId, t => t[0].GetProperty("state").GetString() == "stopped", TimeSpan.FromSeconds(10)))[0];
        Assert.Equal(1, trial.GetProperty("epochs").GetArrayLength());
        Assert.Equal("stopped by admin", trial.GetProperty("reason").GetString());
    }

    [Fact]
    public async Task TrialFinished_Diverged_IsAFinalDivergedTrialWithTheAgentsReason()
    {
        await using var dashboard = await RunningDashboard.StartAsync();
        await using var agent = await ScriptedAgent.ConnectAsync(dashboard.GrpcUri, RunningDashboard.Token);
        var studyId = await dashboard.CreateStudyAsync(OneTrialSpec);
        var start = (await agent.NextAsync(HubMessage.KindOneofCase.StartTrial)).StartTrial;

        await agent.FinishAsync(start.TrialId, start.Attempt, 1, TrialOutcome.Diverged, "loss became NaN at epoch 1, batch 17");

        var trial = (await dashboard.WaitForTrialsAsync(studyId, t => t[0].GetProperty("state").GetString() == "diverged", TimeSpan.FromSeconds(10)))[0];
        Assert.Equal("loss became NaN at epoch 1, batch 17", trial.GetProperty("reason").GetString());
        var study = await dashboard.GetJsonAsync($"/api/studies/{studyId}");
        Assert.Equal("completed", study.GetProperty("study").GetProperty("state").GetString());
    }

    [Fact]
    public async Task CloneTrial_WithOverride_QueuesTrialThatRunsWithTheNewValue()
    {
        await using var dashboard = await RunningDashboard.StartAsync();
        await using var agent = await ScriptedAgent.ConnectAsync(dashboard.GrpcUri, RunningDashboard.Token);
        await dashboard.CreateStudyAsync(OneTrialSpec);
        var start = (await agent.NextAsync(HubMessage.KindOneofCase.StartTrial)).StartTrial;
        await agent.FinishAsync(start.TrialId, start.Attempt, 1, TrialOutcome.Completed);

        using var response = await dashboard.Http.PostAsync($"/api/trials/{start.TrialId}/clone",
            new StringContent("""{ "params": { "lr": 0.0123 } }""", System.Text.Encoding.UTF8, "application/json"));
        var clone = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        var started = (await agent.NextAsync(HubMessage.KindOneofCase.StartTrial)).StartTrial;

        Assert.Equal(System.Net.HttpStatusCode.Created, response.StatusCode);
        Assert.Equal(start.TrialId, clone.GetProperty("clonedFromTrialId").GetInt64());
        Assert.Equal(clone.GetProperty("id").GetInt64(), started.TrialId);
        Assert.Equal(0.0123, started.Params["lr"].Number);
        Assert.Equal(start.Params["epochs"].Number, started.Params["epochs"].Number);
    }

    [Fact]
    public async Task CloneTrial_WithOutOfRangeOverride_Returns400NamingTheParameter()
    {
        await using var dashboard = await RunningDashboard.StartAsync();
        await using var agent = await ScriptedAgent.ConnectAsync(dashboard.GrpcUri, RunningDashboard.Token);
        var studyId = await dashboard.CreateStudyAsync(OneTrialSpec);
        var start = (await agent.NextAsync(HubMessage.KindOneofCase.StartTrial)).StartTrial;

        using var response = await dashboard.Http.PostAsync($"/api/trials/{start.TrialId}/clone",
            new StringContent("""{ "params": { "lr": 50, "optimizer": "lion" } }""", System.Text.Encoding.UTF8, "application/json"));
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(System.Net.HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("params.lr", body, StringComparison.Ordinal);
        Assert.Contains("got 50", body, StringComparison.Ordinal);
        Assert.Contains("params.optimizer", body, StringComparison.Ordinal);
        Assert.Equal(1, (await dashboard.GetJsonAsync($"/api/studies/{studyId}/trials")).GetArrayLength());
    }

    [Fact]
    public async Task StartTrial_WithConditionalSpace_CarriesOnlyTheActiveParameters()
    {
        await using var dashboard = await RunningDashboard.StartAsync();
        await using var agent = await ScriptedAgent.ConnectAsync(dashboard.GrpcUri, RunningDashboard.Token, slots: 8);
        await dashboard.CreateStudyAsync("""
            { "name": "conditional", "workload": "fashion-mnist-cnn",
              "objective": { "metric": "val_accuracy", "direction": "maximize" },
              "sampler": { "type": "random", "seed": 3 },
              "budget": { "trials": 8, "parallel": 8 },
              "space": { "optimizer": { "type": "categorical", "choices": ["sgd", "adam"] },
                         "momentum": { "type": "float", "low": 0.5, "high": 0.99, "scale": "reverse_log", "when": { "optimizer": "sgd" } } } }
            """);

        var starts = new List<StartTrial>();
        for (var i = 0; i < 8; i++)
        {
            starts.Add((await agent.NextAsync(HubMessage.KindOneofCase.StartTrial)).StartTrial);
        }

        Assert.All(starts, s => Assert.Equal(s.Params["optimizer"].Text == "sgd", s.Params.ContainsKey("momentum")));
        Assert.Contains(starts, s => s.Params["optimizer"].Text == "adam");
        Assert.Contains(starts, s => s.Params["optimizer"].Text == "sgd");
    }
}
