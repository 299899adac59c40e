using System.Net;
using System.Text.Json;
using HyperTune.Protos.V1;
using HyperTune.TestSupport;

namespace HyperTune.Dashboard.Tests;

public sealed class AskTellApiTests
{
    /// <summary>An ask/tell study (workload "external") of two trials over lr, minimizing val_loss.</summary>
    internal const string ExternalSpec = TestSpecs.AskTell;

    [Fact]
    public async Task AskReportTell_OnExternalStudy_RunsTrialsUntilTheBudgetIsSpent()
    {
        await using var dashboard = await RunningDashboard.StartAsync();
        var studyId = await dashboard.CreateStudyAsync(ExternalSpec);

        var asked = await dashboard.PostAsync($"/api/studies/{studyId}/ask", "");
        var trialId = asked.Body.GetProperty("trialId").GetInt64();
        var report = await dashboard.PostAsync($"/api/trials/{trialId}/report", """{ "epoch": 1, "metrics": { "val_loss": 0.7, "grad_norm": "NaN" } }""");
        var again = await dashboard.PostAsync($"/api/trials/{trialId}/report", """{ "epoch": 1, "metrics": { "val_loss": 0.7 } }""");
        var told = await dashboard.PostAsync($"/api/trials/{trialId}/tell", """{ "value": 0.65 }""");
        await dashboard.PostAsync($"/api/studies/{studyId}/ask", "");
        var spent = await dashboard.PostAsync($"/api/studies/{studyId}/ask", "");

        Assert.Equal(HttpStatusCode.OK, asked.Status);
        Assert.InRange(asked.Body.GetProperty("params").GetProperty("lr").GetDouble(), 0.001, 0.1);
        Assert.False(report.Body.GetProperty("prune").GetBoolean());
        Assert.Equal(HttpStatusCode.OK, again.Status);
        Assert.Equal("completed", told.Body.GetProperty("state").GetString());
        Assert.Equal(0.65, told.Body.GetProperty("bestValue").GetDouble());
        Assert.Equal(HttpStatusCode.Conflict, spent.Status);
        Assert.Contains("spent its budget of 2 trials", spent.Body.GetProperty("detail").GetString(), StringComparison.Ordinal);
        var trials = await dashboard.GetJsonAsync($"/api/studies/{studyId}/trials");
        Assert.Equal(1, trials[0].GetProperty("epochs").GetArrayLength());
        Assert.Equal("NaN", trials[0].GetProperty("epochs")[0].GetProperty("metrics").GetProperty("grad_norm").GetString());
    }

    [Fact]
    public async Task ExternalStudy_WithAnAgentConnected_IsNeverSentToTheAgent()
    {
        await using var dashboard = await RunningDashboard.StartAsync();
        await using var agent = await ScriptedAgent.ConnectAsync(dashboard.GrpcUri, RunningDashboard.Token, workloads: ["external", "fashion-mnist-cnn"]);
        await agent.NextAsync(HubMessage.KindOneofCase.Welcome);

        await dashboard.CreateStudyAsync(ExternalSpec);

        Assert.False(await agent.ReceivesWithinAsync(HubMessage.KindOneofCase.StartTrial, TimeSpan.FromSeconds(1.5)));
    }

    [Fact]
    public async Task Ask_OnStudyRunOnAgents_Returns409SayingWhy()
    {
        await using var dashboard = await RunningDashboard.StartAsync();
        var studyId = await dashboard.CreateStudyAsync(ExternalSpec.Replace("\"external\"", "\"fashion-mnist-mlp\"", StringComparison.Ordinal));

        var asked = await dashboard.PostAsync($"/api/studies/{studyId}/ask", "");

        Assert.Equal(HttpStatusCode.Conflict, asked.Status);
        Assert.Contains("runs on agents", asked.Body.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{ "epoch": 0, "metrics": { "val_loss": 1 } }""", "report", "epoch")]
    [InlineData("""{ "epoch": 1, "metrics": { "val_loss": "low" } }""", "report", "metrics.val_loss")]
    [InlineData("""{ "value": 1, "state": "failed" }""", "tell", "$")]
    [InlineData("""{ "state": "done" }""", "tell", "state")]
    public async Task ReportOrTell_WithBadBody_Returns400NamingTheField(string body, string verb, string field)
    {
        await using var dashboard = await RunningDashboard.StartAsync();
        var studyId = await dashboard.CreateStudyAsync(ExternalSpec);
        var trialId = (await dashboard.PostAsync($"/api/studies/{studyId}/ask", "")).Body.GetProperty("trialId").GetInt64();

        var answer = await dashboard.PostAsync($"/api/trials/{trialId}/{verb}", body);

        Assert.Equal(HttpStatusCode.BadRequest, answer.Status);
        Assert.True(answer.Body.GetProperty("errors").TryGetProperty(field, out _), answer.Body.ToString());
    }

    [Fact]
    public async Task Report_WorseThanPatienceAllows_AnswersPruneWithTheSentenceAndEndsTheTrialPruned()
    {
        await using var dashboard = await RunningDashboard.StartAsync();
        var studyId = await dashboard.CreateStudyAsync(ExternalSpec.Replace("\"budget\"", "\"pruner\": { \"type\": \"patience\", \"patience\": 1 }, \"budget\"", StringComparison.Ordinal));
        var trialId = (await dashboard.PostAsync($"/api/studies/{studyId}/ask", "")).Body.GetProperty("trialId").GetInt64();

        var first = await dashboard.PostAsync($"/api/trials/{trialId}/report", """{ "epoch": 1, "metrics": { "val_loss": 0.5 } }""");
        var second = await dashboard.PostAsync($"/api/trials/{trialId}/report", """{ "epoch": 2, "metrics": { "val_loss": 0.6 } }""");
        var tell = await dashboard.PostAsync($"/api/trials/{trialId}/tell", """{ "value": 0.6 }""");

        Assert.False(first.Body.GetProperty("prune").GetBoolean());
        Assert.True(second.Body.GetProperty("prune").GetBoolean());
        Assert.Contains("pruned at epoch 2", second.Body.GetProperty("reason").GetString(), StringComparison.Ordinal);
        Assert.Equal("pruned", second.Body.GetProperty("state").GetString());
        Assert.Equal(HttpStatusCode.Conflict, tell.Status);
        var trial = (await dashboard.GetJsonAsync($"/api/studies/{studyId}/trials"))[0];
        Assert.Equal("pruned", trial.GetProperty("state").GetString());
        Assert.Contains("val_loss", trial.GetProperty("reason").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task EpochReport_FromAgentThatThePrunerStops_EndsThePrunedTrialWithItsSentence()
    {
        await using var dashboard = await RunningDashboard.StartAsync();
        await using var agent = await ScriptedAgent.ConnectAsync(dashboard.GrpcUri, RunningDashboard.Token);
        var studyId = await dashboard.CreateStudyAsync(ExternalSpec
            .Replace("\"external\"", "\"fashion-mnist-cnn\"", StringComparison.Ordinal)
            .Replace("\"budget\"", "\"pruner\": { \"type\": \"patience\", \"patience\": 1 }, \"budget\"", StringComparison.Ordinal));
        var start = (await agent.NextAsync(HubMessage.KindOneofCase.StartTrial)).StartTrial;

        await agent.ReportAsync(start.TrialId, start.Attempt, 1, 1, new Dictionary<string, double> { ["val_loss"] = 0.5 });
        await agent.ReportAsync(start.TrialId, start.Attempt, 2, 2, new Dictionary<string, double> { ["val_loss"] = 0.7 });
        var stop = (await agent.NextAsync(HubMessage.KindOneofCase.StopTrial)).StopTrial;
        await agent.FinishAsync(stop.TrialId, stop.Attempt, 3, TrialOutcome.Stopped, stop.Reason);

        Assert.Contains("pruned at epoch 2", stop.Reason, StringComparison.Ordinal);
        var trial = (await dashboard.WaitForTrialsAsync(studyId, t => t[0].GetProperty("state").GetString() == "pruned", TimeSpan.FromSeconds(10)))[0];
        Assert.Equal(stop.Reason, trial.GetProperty("reason").GetString());
        Assert.Equal(2, trial.GetProperty("epochs").GetArrayLength());
    }
}
