using Grpc.Core;
using Grpc.Net.Client;
using HyperTune.Dashboard.Extensions;
using HyperTune.Dashboard.Grpc;
using HyperTune.Protos.V1;
using HyperTune.TestSupport;
using Microsoft.Data.Sqlite;

namespace HyperTune.Dashboard.Tests;

/// <summary>What the agents' gRPC endpoint does with input it must not trust: each gets a clear error, nothing is stored wrongly, the dashboard goes on.</summary>
public sealed class AgentHubBadInputTests
{
    private const string Spec = """
        { "name": "bad-input", "workload": "fashion-mnist-cnn",
          "objective": { "metric": "val_accuracy", "direction": "maximize" },
          "budget": { "trials": 2, "parallel": 2 }, "fixed": { "epochs": 5 },
          "space": { "lr": { "type": "float", "low": 0.001, "high": 0.1, "scale": "log" } } }
        """;

    [Fact]
    public async Task Connect_MessageOverTheReceiveLimit_EndsThatStreamWithResourceExhaustedAndStoresNothing()
    {
        await using var dashboard = await RunningDashboard.StartAsync();
        await using var agent = await ScriptedAgent.ConnectAsync(dashboard.GrpcUri, RunningDashboard.Token, "oversized");
        await dashboard.CreateStudyAsync(Spec);
        var start = (await agent.NextAsync(HubMessage.KindOneofCase.StartTrial)).StartTrial;

        var metrics = new Dictionary<string, double> { [new string('m', DashboardApp.MaxGrpcMessageBytes)] = 1 };
        try
        {
            await agent.ReportAsync(start.TrialId, start.Attempt, 1, 1, metrics);
        }
        catch (RpcException)
        {
            // The dashboard may end the call while the message is still going out; its status comes with the answers.
        }

        var error = await Assert.ThrowsAsync<RpcException>(() => agent.NextAsync(HubMessage.KindOneofCase.Ack));

        Assert.Equal(StatusCode.ResourceExhausted, error.StatusCode);
        Assert.Equal(0L, await dashboard.ScalarAsync<long>("SELECT COUNT(*) FROM epoch_reports"));
        await AssertAnotherAgentIsServedAsync(dashboard);
    }

    [Fact]
    public async Task Connect_BytesThatAreNotAnAgentMessage_EndThatStreamWithAnErrorAndTheDashboardGoesOn()
    {
        await using var dashboard = await RunningDashboard.StartAsync();
        using var channel = GrpcChannel.ForAddress(dashboard.GrpcUri);
        var raw = new Method<byte[], byte[]>(MethodType.DuplexStreaming, "hypertune.v1.AgentHub", "Connect",
            Marshallers.Create(b => b, b => b), Marshallers.Create(b => b, b => b));
        using var call = channel.CreateCallInvoker().AsyncDuplexStreamingCall(raw, null, new CallOptions(new Metadata { { "authorization", $"Bearer {RunningDashboard.Token}" } }));

        // A field tag with wire type 7 (there is none) followed by a length that runs past the end.
        await call.RequestStream.WriteAsync([0x0F, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 0x01]);
        var error = await Assert.ThrowsAsync<RpcException>(async () => await call.ResponseStream.MoveNext());

        Assert.NotEqual(StatusCode.OK, error.StatusCode);
        Assert.Equal(0L, await dashboard.ScalarAsync<long>("SELECT COUNT(*) FROM agents"));
        await AssertAnotherAgentIsServedAsync(dashboard);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    public async Task Connect_HelloWithoutAnAgentId_IsInvalidArgumentNamingTheField(string agentId)
    {
        await using var dashboard = await RunningDashboard.StartAsync();
        await using var agent = await ScriptedAgent.ConnectAsync(dashboard.GrpcUri, RunningDashboard.Token, agentId);

        var error = await Assert.ThrowsAsync<RpcException>(() => agent.NextAsync(HubMessage.KindOneofCase.Welcome));

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Contains("hello.agent_id", error.Status.Detail, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(1_000_000)]
    public async Task Connect_HelloWithSlotsOutOfRange_IsInvalidArgumentNamingTheFieldAndTheValue(int slots)
    {
        await using var dashboard = await RunningDashboard.StartAsync();
        await using var agent = await ScriptedAgent.ConnectAsync(dashboard.GrpcUri, RunningDashboard.Token, "greedy", slots);

        var error = await Assert.ThrowsAsync<RpcException>(() => agent.NextAsync(HubMessage.KindOneofCase.Welcome));

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Contains($"hello.slots must be 0 to {AgentHubService.MaxSlots}, got {slots}", error.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(0L, await dashboard.ScalarAsync<long>("SELECT COUNT(*) FROM agents"));
    }

    [Fact]
    public async Task EpochReport_ForAnUnknownTrial_IsAcknowledgedAndStoresNothing()
    {
        await using var dashboard = await RunningDashboard.StartAsync();
        await using var agent = await ScriptedAgent.ConnectAsync(dashboard.GrpcUri, RunningDashboard.Token, "lost");
        await agent.NextAsync(HubMessage.KindOneofCase.Welcome);

        await agent.ReportAsync(424242, 1, 1, 1, new Dictionary<string, double> { ["val_accuracy"] = 0.5 });
        var ack = (await agent.NextAsync(HubMessage.KindOneofCase.Ack)).Ack;

        Assert.Equal((424242L, 1L), (ack.TrialId, ack.Seq));
        Assert.Equal(0L, await dashboard.ScalarAsync<long>("SELECT COUNT(*) FROM epoch_reports"));
    }

    [Fact]
    public async Task EpochReportAndFinish_ForATrialOfAnotherAgent_AreRefusedAndChangeNothing()
    {
        await using var dashboard = await RunningDashboard.StartAsync();
        await using var owner = await ScriptedAgent.ConnectAsync(dashboard.GrpcUri, RunningDashboard.Token, "owner", slots: 2);
        var studyId = await dashboard.CreateStudyAsync(Spec.Replace("\"trials\": 2, \"parallel\": 2", "\"trials\": 1, \"parallel\": 1", StringComparison.Ordinal));
        var start = (await owner.NextAsync(HubMessage.KindOneofCase.StartTrial)).StartTrial;
        await using var other = await ScriptedAgent.ConnectAsync(dashboard.GrpcUri, RunningDashboard.Token, "other");
        await other.NextAsync(HubMessage.KindOneofCase.Welcome);

        await other.ReportAsync(start.TrialId, start.Attempt, 1, 1, new Dictionary<string, double> { ["val_accuracy"] = 0.99 });
        await other.NextAsync(HubMessage.KindOneofCase.Ack);
        await other.FinishAsync(start.TrialId, start.Attempt, 2, TrialOutcome.Failed, "not mine to end");
        await other.NextAsync(HubMessage.KindOneofCase.Ack);
        await owner.ReportAsync(start.TrialId, start.Attempt, 1, 1, new Dictionary<string, double> { ["val_accuracy"] = 0.5 });
        await owner.NextAsync(HubMessage.KindOneofCase.Ack);

        var trial = (await dashboard.GetJsonAsync($"/api/studies/{studyId}/trials"))[0];
        Assert.Equal("running", trial.GetProperty("state").GetString());
        Assert.Equal("owner", trial.GetProperty("agentId").GetString());
        var epoch = Assert.Single(trial.GetProperty("epochs").EnumerateArray());
        Assert.Equal(0.5, epoch.GetProperty("metrics").GetProperty("val_accuracy").GetDouble());
    }

    [Fact]
    public async Task EpochReport_WithNaNAndInfiniteObjective_IsStoredAsSentAndNeverBecomesTheBestValue()
    {
        await using var dashboard = await RunningDashboard.StartAsync();
        await using var agent = await ScriptedAgent.ConnectAsync(dashboard.GrpcUri, RunningDashboard.Token, "diverging");
        var studyId = await dashboard.CreateStudyAsync(Spec);
        var start = (await agent.NextAsync(HubMessage.KindOneofCase.StartTrial)).StartTrial;

        double[] values = [0.4, double.PositiveInfinity, double.NaN, double.NegativeInfinity];
        for (var i = 0; i < values.Length; i++)
        {
            await agent.ReportAsync(start.TrialId, start.Attempt, i + 1, i + 1, new Dictionary<string, double> { ["val_accuracy"] = values[i] });
            await agent.NextAsync(HubMessage.KindOneofCase.Ack);
        }

        var trial = (await dashboard.GetJsonAsync($"/api/studies/{studyId}/trials")).EnumerateArray().Single(t => t.GetProperty("id").GetInt64() == start.TrialId);
        Assert.Equal(0.4, trial.GetProperty("bestValue").GetDouble());
        Assert.Equal(System.Text.Json.JsonValueKind.Null, trial.GetProperty("lastValue").ValueKind);
        Assert.Equal(["0.4", "\"Infinity\"", "\"NaN\"", "\"-Infinity\""],
            trial.GetProperty("epochs").EnumerateArray().Select(e => e.GetProperty("metrics").GetProperty("val_accuracy").GetRawText()));
    }

    [Fact]
    public async Task EpochReports_WhileAnotherConnectionHoldsTheWriteLock_AreAllStoredOnceItIsReleased()
    {
        await using var dashboard = await RunningDashboard.StartAsync();
        await using var agent = await ScriptedAgent.ConnectAsync(dashboard.GrpcUri, RunningDashboard.Token, "patient");
        await dashboard.CreateStudyAsync(Spec);
        var start = (await agent.NextAsync(HubMessage.KindOneofCase.StartTrial)).StartTrial;
        await agent.ReportAsync(start.TrialId, start.Attempt, 1, 1, new Dictionary<string, double> { ["val_accuracy"] = 0.1 });
        await agent.NextAsync(HubMessage.KindOneofCase.Ack);

        // Another program writes and keeps its write transaction open for three seconds while the agent reports.
        await using (var locker = new SqliteConnection($"Data Source={dashboard.DatabasePath};Pooling=False"))
        {
            await locker.OpenAsync();
            await using var hold = locker.CreateCommand();
            hold.CommandText = "BEGIN IMMEDIATE; UPDATE agents SET HostName = 'locked-for-a-while';";
            await hold.ExecuteNonQueryAsync();
            for (var seq = 2; seq <= 20; seq++)
            {
                await agent.ReportAsync(start.TrialId, start.Attempt, seq, seq, new Dictionary<string, double> { ["val_accuracy"] = seq / 100.0 });
            }

            Assert.False(await agent.ReceivesWithinAsync(HubMessage.KindOneofCase.Ack, TimeSpan.FromSeconds(3)));
            hold.CommandText = "COMMIT;";
            await hold.ExecuteNonQueryAsync();
        }

        var acked = new List<long>();
        for (var i = 2; i <= 20; i++)
        {
            acked.Add((await agent.NextAsync(HubMessage.KindOneofCase.Ack, TimeSpan.FromSeconds(30))).Ack.Seq);
        }

        Assert.Equal(Enumerable.Range(2, 19).Select(s => (long)s), acked);
        Assert.Equal(20L, await dashboard.ScalarAsync<long>("SELECT COUNT(DISTINCT Seq) FROM epoch_reports"));
        Assert.Equal(20L, await dashboard.ScalarAsync<long>("SELECT COUNT(*) FROM epoch_reports"));
        Assert.Equal("ok", await dashboard.ScalarAsync<string>("PRAGMA integrity_check"));
    }

    private static async Task AssertAnotherAgentIsServedAsync(RunningDashboard dashboard)
    {
        await using var next = await ScriptedAgent.ConnectAsync(dashboard.GrpcUri, RunningDashboard.Token, "well-behaved");
        Assert.Equal(AgentHubService.DashboardVersion, (await next.NextAsync(HubMessage.KindOneofCase.Welcome)).Welcome.DashboardVersion);
    }
}
