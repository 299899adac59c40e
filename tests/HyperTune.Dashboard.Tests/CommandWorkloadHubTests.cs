using System.Net;
using HyperTune.Dashboard.Data;
using HyperTune.Protos.V1;
using HyperTune.TestSupport;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;

namespace HyperTune.Dashboard.Tests;

/// <summary>Studies of a command go only to agents that declare it; their log lines are kept as each trial's tail.</summary>
public sealed class CommandWorkloadHubTests
{
    private const string CommandSpec = """
        { "name": "cmd", "workload": "command:train",
          "objective": { "metric": "val_loss", "direction": "minimize" },
          "budget": { "trials": 1, "parallel": 1 },
          "fixed": { "depth": 50 },
          "space": { "lr": { "type": "float", "low": 0.001, "high": 0.1, "scale": "log" } } }
        """;

    [Fact]
    public async Task Schedule_CommandStudy_GoesOnlyToTheAgentThatDeclaresTheCommand()
    {
        await using var dashboard = await RunningDashboard.StartAsync();
        await using var builtInOnly = await ScriptedAgent.ConnectAsync(dashboard.GrpcUri, RunningDashboard.Token, agentId: "built-in-only");
        await using var otherCommand = await ScriptedAgent.ConnectAsync(dashboard.GrpcUri, RunningDashboard.Token, Hello("other-command", "evaluate"));
        await builtInOnly.NextAsync(HubMessage.KindOneofCase.Welcome);
        await otherCommand.NextAsync(HubMessage.KindOneofCase.Welcome);
        await dashboard.CreateStudyAsync(CommandSpec);

        Assert.False(await builtInOnly.ReceivesWithinAsync(HubMessage.KindOneofCase.StartTrial, TimeSpan.FromSeconds(1)));
        Assert.False(await otherCommand.ReceivesWithinAsync(HubMessage.KindOneofCase.StartTrial, TimeSpan.FromMilliseconds(100)));
        await using var declares = await ScriptedAgent.ConnectAsync(dashboard.GrpcUri, RunningDashboard.Token, Hello("declares", "evaluate", "train"));
        var start = (await declares.NextAsync(HubMessage.KindOneofCase.StartTrial)).StartTrial;

        Assert.Equal("command:train", start.Workload);
        Assert.Equal(50, start.Params["depth"].Number);
        var agents = await dashboard.GetJsonAsync("/api/agents");
        var listed = agents.EnumerateArray().Single(a => a.GetProperty("id").GetString() == "declares");
        Assert.Equal(["fashion-mnist-cnn", "command:evaluate", "command:train"], listed.GetProperty("workloads").EnumerateArray().Select(w => w.GetString()));
    }

    [Fact]
    public async Task TrialLog_ManyBatches_KeepsTheLast200LinesOfTheCurrentAttempt()
    {
        await using var dashboard = await RunningDashboard.StartAsync();
        await using var agent = await ScriptedAgent.ConnectAsync(dashboard.GrpcUri, RunningDashboard.Token, Hello("declares", "train"));
        await dashboard.CreateStudyAsync(CommandSpec);
        var start = (await agent.NextAsync(HubMessage.KindOneofCase.StartTrial)).StartTrial;

        for (var batch = 0; batch < 5; batch++)
        {
            var log = new TrialLog { TrialId = start.TrialId, Attempt = start.Attempt };
            log.Lines.Add(Enumerable.Range(batch * 50, 50).Select(i => $"line {i}"));
            await agent.SendAsync(new AgentMessage { Log = log });
        }

        var stale = new TrialLog { TrialId = start.TrialId, Attempt = start.Attempt + 1 };
        stale.Lines.Add("from an attempt that is not the trial's");
        await agent.SendAsync(new AgentMessage { Log = stale });
        await agent.FinishAsync(start.TrialId, start.Attempt, 1, TrialOutcome.Completed);
        await agent.NextAsync(HubMessage.KindOneofCase.Ack);

        var tail = await dashboard.GetJsonAsync($"/api/trials/{start.TrialId}/log");
        Assert.Equal(start.Attempt, tail.GetProperty("attempt").GetInt32());
        Assert.Equal(Enumerable.Range(50, 200).Select(i => $"line {i}"), tail.GetProperty("lines").EnumerateArray().Select(l => l.GetString()));
        await using var db = new SqliteConnection($"Data Source={dashboard.DatabasePath}");
        await db.OpenAsync();
        using var count = db.CreateCommand();
        count.CommandText = "SELECT COUNT(*) FROM trial_logs";
        Assert.Equal(200L, (long)(await count.ExecuteScalarAsync())!);
    }

    [Fact]
    public async Task TrialLog_UnknownTrial_Is404()
    {
        await using var dashboard = await RunningDashboard.StartAsync();

        using var response = await dashboard.Http.GetAsync("/api/trials/999/log");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task Start_DatabaseMadeBeforeTrialLogs_CreatesTheMissingTable()
    {
        var dataDir = Directory.CreateTempSubdirectory("hypertune-test-").FullName;
        var options = new DbContextOptionsBuilder<HyperTuneDbContext>().UseSqlite($"Data Source={Path.Combine(dataDir, "hypertune.db")}").Options;
        await using (var old = new HyperTuneDbContext(options))
        {
            await old.Database.EnsureCreatedAsync();
            await old.Database.ExecuteSqlRawAsync("DROP TABLE trial_logs");
        }

        SqliteConnection.ClearAllPools();
        await using var dashboard = await RunningDashboard.StartAsync(dataDir);
        await dashboard.CreateStudyAsync(CommandSpec);
        await using var agent = await ScriptedAgent.ConnectAsync(dashboard.GrpcUri, RunningDashboard.Token, Hello("declares", "train"));
        var start = (await agent.NextAsync(HubMessage.KindOneofCase.StartTrial)).StartTrial;
        var log = new TrialLog { TrialId = start.TrialId, Attempt = start.Attempt };
        log.Lines.Add("kept");
        await agent.SendAsync(new AgentMessage { Log = log });
        await agent.FinishAsync(start.TrialId, start.Attempt, 1, TrialOutcome.Completed);
        await agent.NextAsync(HubMessage.KindOneofCase.Ack);

        var tail = await dashboard.GetJsonAsync($"/api/trials/{start.TrialId}/log");
        Assert.Equal(["kept"], tail.GetProperty("lines").EnumerateArray().Select(l => l.GetString()));
    }

    private static Hello Hello(string agentId, params string[] commands)
    {
        var hello = new Hello { AgentId = agentId, HostName = "test-host", Slots = 1, Version = "test" };
        hello.Workloads.Add("fashion-mnist-cnn");
        hello.Commands.Add(commands);
        return hello;
    }
}
