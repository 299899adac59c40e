using System.Net;
using HyperTune.Protos.V1;
using HyperTune.TestSupport;

namespace HyperTune.Dashboard.Tests;

public sealed class LrRangeTestStageTests
{
    private static string Spec(bool auto) => $$"""
        { "name": "lr-first", "workload": "fashion-mnist-cnn",
          "objective": { "metric": "val_accuracy", "direction": "maximize" },
          "sampler": { "type": "random", "seed": 4 },
          "lr_range_test": { "min_lr": 1e-6, "max_lr": 10, "steps": 100, "auto": {{(auto ? "true" : "false")}} },
          "budget": { "trials": 3, "parallel": 1 },
          "fixed": { "epochs": 1 },
          "space": { "lr": { "type": "float", "low": 0.0001, "high": 1, "scale": "log" },
                     "optimizer": { "type": "categorical", "choices": ["sgd", "adam"] },
                     "momentum": { "type": "float", "low": 0.8, "high": 0.99, "when": { "optimizer": ["sgd"] } } } }
        """;

    /// <summary>Plays the range test on the agent's side: loss flat to 1e-4, falling to a minimum near 0.3, then exploding.</summary>
    private static async Task PlayRangeTestAsync(ScriptedAgent agent, StartTrial start)
    {
        var test = start.LrRangeTest;
        for (var step = 0; step < test.Steps; step++)
        {
            var lr = test.MinLr * Math.Pow(test.MaxLr / test.MinLr, step / (double)(test.Steps - 1));
            var x = Math.Log10(lr);
            var loss = x < -4 ? 2.3 : x < -0.5 ? 2.3 - (1.9 * (x + 4) / 3.5) : 0.4 * Math.Exp(3 * (x + 0.5));
            await agent.ReportAsync(start.TrialId, start.Attempt, step + 1, step + 1, new Dictionary<string, double> { ["lr"] = lr, ["loss"] = loss });
        }

        await agent.FinishAsync(start.TrialId, start.Attempt, test.Steps + 1, TrialOutcome.Completed);
    }

    [Fact]
    public async Task LrRangeTest_FirstTrial_IsOneSweepWithoutLrAndWithTheOtherParametersAtTheirCentre()
    {
        await using var dashboard = await RunningDashboard.StartAsync();
        await using var agent = await ScriptedAgent.ConnectAsync(dashboard.GrpcUri, RunningDashboard.Token);
        await dashboard.CreateStudyAsync(Spec(auto: false));

        var start = (await agent.NextAsync(HubMessage.KindOneofCase.StartTrial)).StartTrial;

        Assert.Equal(new LrRangeTest { MinLr = 1e-6, MaxLr = 10, Steps = 100 }, start.LrRangeTest);
        Assert.False(start.Params.ContainsKey("lr"));
        // The centre of ["sgd", "adam"] is adam, so momentum (only with sgd) is not sent.
        Assert.Equal("adam", start.Params["optimizer"].Text);
        Assert.False(start.Params.ContainsKey("momentum"));
        Assert.Equal(1, start.Params["epochs"].Number);
    }

    [Fact]
    public async Task LrRangeTest_WithoutAuto_ProposesLrBoundsFromTheCurveAndWaitsForAPerson()
    {
        await using var dashboard = await RunningDashboard.StartAsync();
        await using var agent = await ScriptedAgent.ConnectAsync(dashboard.GrpcUri, RunningDashboard.Token);
        var studyId = await dashboard.CreateStudyAsync(Spec(auto: false));
        await PlayRangeTestAsync(agent, (await agent.NextAsync(HubMessage.KindOneofCase.StartTrial)).StartTrial);

        var stages = await WaitForStagesAsync(dashboard, studyId, 2);
        Assert.False(await agent.ReceivesWithinAsync(HubMessage.KindOneofCase.StartTrial, TimeSpan.FromSeconds(1.5)));
        var curve = await dashboard.GetJsonAsync($"/api/studies/{studyId}/lr-range-test");

        Assert.Equal(["lr_range_test", "search"], stages.EnumerateArray().Select(s => s.GetProperty("kind").GetString()));
        Assert.Equal("proposed", stages[1].GetProperty("state").GetString());
        Assert.Equal(3, stages[1].GetProperty("trials").GetInt32());
        var lr = stages[1].GetProperty("space").GetProperty("lr");
        var proposal = curve.GetProperty("proposal");
        Assert.Equal(proposal.GetProperty("low").GetDouble(), lr.GetProperty("low").GetDouble());
        Assert.Equal(proposal.GetProperty("high").GetDouble(), lr.GetProperty("high").GetDouble());
        Assert.InRange(lr.GetProperty("high").GetDouble(), 0.01, 0.1);
        Assert.Equal("log", lr.GetProperty("scale").GetString());
        Assert.StartsWith("lr range test: loss fell fastest at lr", stages[1].GetProperty("origin").GetString(), StringComparison.Ordinal);
        Assert.Equal(100, curve.GetProperty("steps").GetArrayLength());
        Assert.Equal("completed", curve.GetProperty("state").GetString());
    }

    [Fact]
    public async Task LrRangeTest_WithAuto_RunsTheBudgetInsideTheProposedBounds()
    {
        await using var dashboard = await RunningDashboard.StartAsync();
        await using var agent = await ScriptedAgent.ConnectAsync(dashboard.GrpcUri, RunningDashboard.Token);
        var studyId = await dashboard.CreateStudyAsync(Spec(auto: true));
        await PlayRangeTestAsync(agent, (await agent.NextAsync(HubMessage.KindOneofCase.StartTrial)).StartTrial);

        var next = (await agent.NextAsync(HubMessage.KindOneofCase.StartTrial)).StartTrial;
        var proposal = (await dashboard.GetJsonAsync($"/api/studies/{studyId}/lr-range-test")).GetProperty("proposal");
        var trials = await dashboard.GetJsonAsync($"/api/studies/{studyId}/trials");

        Assert.Null(next.LrRangeTest);
        Assert.InRange(next.Params["lr"].Number, proposal.GetProperty("low").GetDouble(), proposal.GetProperty("high").GetDouble());
        Assert.Equal(["lr_range_test", "training"], trials.EnumerateArray().Select(t => t.GetProperty("kind").GetString()));
        Assert.Equal(2, trials[1].GetProperty("stage").GetInt32());
    }

    [Fact]
    public async Task LrRangeTest_ThatFails_KeepsTheSpecsLrRangeForTheNextStageAndSaysWhy()
    {
        await using var dashboard = await RunningDashboard.StartAsync();
        await using var agent = await ScriptedAgent.ConnectAsync(dashboard.GrpcUri, RunningDashboard.Token);
        var studyId = await dashboard.CreateStudyAsync(Spec(auto: false));
        var start = (await agent.NextAsync(HubMessage.KindOneofCase.StartTrial)).StartTrial;
        await agent.FinishAsync(start.TrialId, start.Attempt, 1, TrialOutcome.Failed, "out of memory");

        await dashboard.WaitForTrialsAsync(studyId, t => t[0].GetProperty("state").GetString() == "failed", TimeSpan.FromSeconds(10));
        var stages = await WaitForStagesAsync(dashboard, studyId, 2);

        var lr = stages[1].GetProperty("space").GetProperty("lr");
        Assert.Equal(0.0001, lr.GetProperty("low").GetDouble());
        Assert.Equal(1, lr.GetProperty("high").GetDouble());
        Assert.Equal("the lr range test failed: out of memory; the spec's lr range is kept", stages[1].GetProperty("origin").GetString());
    }

    [Fact]
    public async Task LrRangeTestCurve_OfAStudyWithoutOne_IsNotFound()
    {
        await using var dashboard = await RunningDashboard.StartAsync();
        var studyId = await dashboard.CreateStudyAsync(Spec(auto: false).Replace("\"lr_range_test\": { \"min_lr\": 1e-6, \"max_lr\": 10, \"steps\": 100, \"auto\": false },", "", StringComparison.Ordinal));

        var response = await dashboard.Http.GetAsync(new Uri($"/api/studies/{studyId}/lr-range-test", UriKind.Relative));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    private static async Task<System.Text.Json.JsonElement> WaitForStagesAsync(RunningDashboard dashboard, long studyId, int count)
    {
        for (var i = 0; i < 300; i++)
        {
            var stages = await dashboard.GetJsonAsync($"/api/studies/{studyId}/stages");
            if (stages.GetArrayLength() >= count)
            {
                return stages;
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"study {studyId} never had {count} stages");
    }
}
