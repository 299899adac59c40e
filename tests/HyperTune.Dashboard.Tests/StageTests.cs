using System.Net;
using System.Text.Json;
using HyperTune.Protos.V1;
using HyperTune.TestSupport;

namespace HyperTune.Dashboard.Tests;

public sealed class StageTests
{
    private static string CoarseToFine(bool auto) => $$"""
        { "name": "c2f", "workload": "fashion-mnist-cnn",
          "objective": { "metric": "val_accuracy", "direction": "maximize" },
          "sampler": { "type": "coarse-to-fine", "seed": 9, "stages": [6, 2], "auto": {{(auto ? "true" : "false")}} },
          "budget": { "trials": 8, "parallel": 6 },
          "space": { "lr": { "type": "float", "low": 0.0001, "high": 1, "scale": "log" } } }
        """;

    [Fact]
    public async Task CoarseToFine_WithAutoStages_RunsTheNextStageInsideAZoomAroundTheBest()
    {
        await using var dashboard = await RunningDashboard.StartAsync();
        await using var agent = await ScriptedAgent.ConnectAsync(dashboard.GrpcUri, RunningDashboard.Token, slots: 6);
        var studyId = await dashboard.CreateStudyAsync(CoarseToFine(auto: true));

        var best = await RunStageAsync(agent, 6);
        var next = new[] { (await agent.NextAsync(HubMessage.KindOneofCase.StartTrial)).StartTrial, (await agent.NextAsync(HubMessage.KindOneofCase.StartTrial)).StartTrial };

        var stages = await dashboard.GetJsonAsync($"/api/studies/{studyId}/stages");
        Assert.Equal(2, stages.GetArrayLength());
        var zoomed = stages[1].GetProperty("space").GetProperty("lr");
        var (low, high) = (zoomed.GetProperty("low").GetDouble(), zoomed.GetProperty("high").GetDouble());
        Assert.Equal("running", stages[1].GetProperty("state").GetString());
        Assert.InRange(best, low, high);
        // Half the four decades, plus the outward rounding of the bounds to four significant digits.
        Assert.True(Math.Log10(high / low) <= 2.01, $"zoomed to [{low}, {high}]");
        Assert.All(next, s => Assert.InRange(s.Params["lr"].Number, low, high));
    }

    [Fact]
    public async Task CoarseToFine_WithoutAuto_WaitsForAPersonThenRunsTheEditedStage()
    {
        await using var dashboard = await RunningDashboard.StartAsync();
        await using var agent = await ScriptedAgent.ConnectAsync(dashboard.GrpcUri, RunningDashboard.Token, slots: 6);
        var studyId = await dashboard.CreateStudyAsync(CoarseToFine(auto: false));
        await RunStageAsync(agent, 6);

        Assert.False(await agent.ReceivesWithinAsync(HubMessage.KindOneofCase.StartTrial, TimeSpan.FromSeconds(1.5)));
        var study = await dashboard.GetJsonAsync($"/api/studies/{studyId}");
        Assert.Equal("waiting", study.GetProperty("study").GetProperty("state").GetString());
        var bad = await dashboard.PostAsync($"/api/studies/{studyId}/stages/2/start", """{ "space": { "lr": { "type": "float", "low": 0.02, "high": 0.005, "scale": "log" } } }""");
        var good = await dashboard.PostAsync($"/api/studies/{studyId}/stages/2/start", """{ "space": { "lr": { "type": "float", "low": 0.005, "high": 0.02, "scale": "log" } } }""");
        var started = (await agent.NextAsync(HubMessage.KindOneofCase.StartTrial)).StartTrial;

        Assert.Equal(HttpStatusCode.BadRequest, bad.Status);
        Assert.True(bad.Body.GetProperty("errors").TryGetProperty("space.lr.high", out _), bad.Body.ToString());
        Assert.Equal(HttpStatusCode.OK, good.Status);
        Assert.Contains("edited", good.Body.GetProperty("origin").GetString(), StringComparison.Ordinal);
        Assert.InRange(started.Params["lr"].Number, 0.005, 0.02);
    }

    [Fact]
    public async Task NarrowTrial_OnRandomStudy_ProposesAStageCentredOnItThatRunsOnceStarted()
    {
        await using var dashboard = await RunningDashboard.StartAsync();
        await using var agent = await ScriptedAgent.ConnectAsync(dashboard.GrpcUri, RunningDashboard.Token, slots: 1);
        var studyId = await dashboard.CreateStudyAsync(CoarseToFine(auto: false)
            .Replace("\"type\": \"coarse-to-fine\", \"seed\": 9, \"stages\": [6, 2], \"auto\": false", "\"type\": \"random\", \"seed\": 9", StringComparison.Ordinal)
            .Replace("\"trials\": 8", "\"trials\": 2", StringComparison.Ordinal));
        var first = (await agent.NextAsync(HubMessage.KindOneofCase.StartTrial)).StartTrial;

        var narrowed = await dashboard.PostAsync($"/api/trials/{first.TrialId}/narrow", """{ "trials": 3 }""");
        var start = await dashboard.PostAsync($"/api/studies/{studyId}/stages/{narrowed.Body.GetProperty("number").GetInt32()}/start", "");
        var lr = narrowed.Body.GetProperty("space").GetProperty("lr");

        Assert.Equal(HttpStatusCode.Created, narrowed.Status);
        Assert.Equal("narrowed around trial #1", narrowed.Body.GetProperty("origin").GetString());
        Assert.InRange(first.Params["lr"].Number, lr.GetProperty("low").GetDouble(), lr.GetProperty("high").GetDouble());
        Assert.Equal(HttpStatusCode.OK, start.Status);
        await agent.FinishAsync(first.TrialId, first.Attempt, 1, TrialOutcome.Completed);
        var next = (await agent.NextAsync(HubMessage.KindOneofCase.StartTrial)).StartTrial;
        Assert.InRange(next.Params["lr"].Number, lr.GetProperty("low").GetDouble(), lr.GetProperty("high").GetDouble());
        var trials = await dashboard.GetJsonAsync($"/api/studies/{studyId}/trials");
        Assert.Equal(2, trials.GetArrayLength());
        Assert.Equal(2, trials[1].GetProperty("stage").GetInt32());
    }

    [Theory]
    [InlineData("tpe")]
    [InlineData("gp")]
    [InlineData("sobol")]
    [InlineData("grid")]
    public async Task Study_WithModelBasedOrQuasiRandomSampler_ProposesFromTheHistoryOfEndedTrials(string sampler)
    {
        await using var dashboard = await RunningDashboard.StartAsync();
        await using var agent = await ScriptedAgent.ConnectAsync(dashboard.GrpcUri, RunningDashboard.Token, slots: 1);
        var options = sampler is "tpe" or "gp" ? ", \"startup_trials\": 2" : "";
        await dashboard.CreateStudyAsync(CoarseToFine(auto: true)
            .Replace("\"type\": \"coarse-to-fine\", \"seed\": 9, \"stages\": [6, 2], \"auto\": true", $"\"type\": \"{sampler}\", \"seed\": 9{options}", StringComparison.Ordinal)
            .Replace("\"trials\": 8, \"parallel\": 6", "\"trials\": 5, \"parallel\": 1", StringComparison.Ordinal));

        var lrs = new List<double>();
        for (var i = 0; i < 5; i++)
        {
            var s = (await agent.NextAsync(HubMessage.KindOneofCase.StartTrial)).StartTrial;
            lrs.Add(s.Params["lr"].Number);
            await agent.ReportAsync(s.TrialId, s.Attempt, 1, 1, new Dictionary<string, double> { ["val_accuracy"] = 1 - Math.Abs(Math.Log10(s.Params["lr"].Number) + 2) });
            await agent.FinishAsync(s.TrialId, s.Attempt, 2, TrialOutcome.Completed);
        }

        Assert.All(lrs, lr => Assert.InRange(lr, 0.0001, 1));
        Assert.Equal(5, lrs.Distinct().Count());
    }

    /// <summary>Finishes a stage of <paramref name="count"/> trials whose value peaks at lr = 0.01; returns the best trial's lr.</summary>
    private static async Task<double> RunStageAsync(ScriptedAgent agent, int count)
    {
        var starts = new List<StartTrial>();
        for (var i = 0; i < count; i++)
        {
            starts.Add((await agent.NextAsync(HubMessage.KindOneofCase.StartTrial)).StartTrial);
        }

        foreach (var s in starts)
        {
            var value = 1 - Math.Abs(Math.Log10(s.Params["lr"].Number) + 2);
            await agent.ReportAsync(s.TrialId, s.Attempt, 1, 1, new Dictionary<string, double> { ["val_accuracy"] = value });
            await agent.FinishAsync(s.TrialId, s.Attempt, 2, TrialOutcome.Completed);
        }

        return starts.MaxBy(s => 1 - Math.Abs(Math.Log10(s.Params["lr"].Number) + 2))!.Params["lr"].Number;
    }
}
