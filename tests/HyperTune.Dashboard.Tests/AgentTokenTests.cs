using System.Security.Cryptography;
using System.Text;
using Grpc.Core;
using HyperTune.Dashboard.Agents;
using HyperTune.Dashboard.Security;
using HyperTune.Protos.V1;
using HyperTune.TestSupport;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;

namespace HyperTune.Dashboard.Tests;

public sealed class AgentTokenTests
{
    private const string OneTrialSpec = """
        { "name": "tokens", "workload": "fashion-mnist-cnn",
          "objective": { "metric": "val_accuracy", "direction": "maximize" },
          "sampler": { "type": "random", "seed": 7 },
          "budget": { "trials": 1, "parallel": 1 },
          "fixed": { "epochs": 3 },
          "space": { "lr": { "type": "float", "low": 0.001, "high": 0.1, "scale": "log" } } }
        """;

    private static readonly Dictionary<string, double> Metrics = new() { ["train_loss"] = 0.9, ["val_loss"] = 0.8, ["val_accuracy"] = 0.7 };

    [Fact]
    public async Task Create_NewToken_StoresOnlyItsSha256AndConnectsAsItsAgent()
    {
        await using var dashboard = await RunningDashboard.StartAsync();
        using var admin = UserAccess.ActAs(await dashboard.PrincipalAsync(RunningDashboard.AdminUser));
        var issued = await Tokens(dashboard).CreateAsync("gpu-box-1");

        await using var agent = await ScriptedAgent.ConnectAsync(dashboard.GrpcUri, issued.Secret, agentId: "gpu-box-1");
        await agent.NextAsync(HubMessage.KindOneofCase.Welcome);

        Assert.StartsWith(AgentTokens.Prefix, issued.Secret, StringComparison.Ordinal);
        Assert.Equal(issued.Secret[..(AgentTokens.Prefix.Length + AgentTokens.HintLength)], issued.Token.Hint);
        await using var db = new SqliteConnection($"Data Source={dashboard.DatabasePath}");
        await db.OpenAsync();
        using var select = db.CreateCommand();
        select.CommandText = "SELECT AgentId, Hash FROM agent_tokens";
        await using var row = await select.ExecuteReaderAsync();
        Assert.True(await row.ReadAsync());
        Assert.Equal("gpu-box-1", row.GetString(0));
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(issued.Secret))), row.GetString(1));
        Assert.False(await row.ReadAsync());
        var listed = Assert.Single(await Tokens(dashboard).ListAsync());
        Assert.NotNull(listed.LastUsedAt);
    }

    [Fact]
    public async Task Connect_TokenOfAgentAUsedAsAgentB_IsPermissionDeniedAndStoresNothing()
    {
        await using var dashboard = await RunningDashboard.StartAsync();
        using var admin = UserAccess.ActAs(await dashboard.PrincipalAsync(RunningDashboard.AdminUser));
        var issued = await Tokens(dashboard).CreateAsync("agent-a");

        await using var impostor = await ScriptedAgent.ConnectAsync(dashboard.GrpcUri, issued.Secret, agentId: "agent-b");
        var error = await Assert.ThrowsAsync<RpcException>(() => impostor.NextAsync(HubMessage.KindOneofCase.Welcome));

        Assert.Equal(StatusCode.PermissionDenied, error.StatusCode);
        Assert.Contains("belongs to agent \"agent-a\"", error.Status.Detail, StringComparison.Ordinal);
        Assert.Contains("\"agent-b\"", error.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(0, (await dashboard.GetJsonAsync("/api/agents")).GetArrayLength());
    }

    [Fact]
    public async Task Connect_SharedTokenAsAgentWithItsOwnToken_IsPermissionDenied()
    {
        await using var dashboard = await RunningDashboard.StartAsync();
        using var admin = UserAccess.ActAs(await dashboard.PrincipalAsync(RunningDashboard.AdminUser));
        await Tokens(dashboard).CreateAsync("agent-a");

        await using var impostor = await ScriptedAgent.ConnectAsync(dashboard.GrpcUri, RunningDashboard.Token, agentId: "agent-a");
        var error = await Assert.ThrowsAsync<RpcException>(() => impostor.NextAsync(HubMessage.KindOneofCase.Welcome));

        Assert.Equal(StatusCode.PermissionDenied, error.StatusCode);
        Assert.Contains("token of its own", error.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(0, (await dashboard.GetJsonAsync("/api/agents")).GetArrayLength());
    }

    [Fact]
    public async Task Connect_UnknownPerAgentToken_IsUnauthenticatedAndStoresNothing()
    {
        await using var dashboard = await RunningDashboard.StartAsync();
        using var admin = UserAccess.ActAs(await dashboard.PrincipalAsync(RunningDashboard.AdminUser));
        var issued = await Tokens(dashboard).CreateAsync("agent-a");
        var forged = issued.Secret[..^4] + (issued.Secret.EndsWith("AAAA", StringComparison.Ordinal) ? "BBBB" : "AAAA");

        await using var agent = await ScriptedAgent.ConnectAsync(dashboard.GrpcUri, forged, agentId: "agent-a");
        var error = await Assert.ThrowsAsync<RpcException>(() => agent.NextAsync(HubMessage.KindOneofCase.Welcome));

        Assert.Equal(StatusCode.Unauthenticated, error.StatusCode);
        Assert.Equal(0, (await dashboard.GetJsonAsync("/api/agents")).GetArrayLength());
    }

    [Fact]
    public async Task Revoke_MidStream_EndsTheStreamAtOnceRefusesReconnectsAndStoresNoReplay()
    {
        await using var dashboard = await RunningDashboard.StartAsync(extra: new Dictionary<string, string?> { ["Dashboard:AgentLostAfterSeconds"] = "1" });
        using var admin = UserAccess.ActAs(await dashboard.PrincipalAsync(RunningDashboard.AdminUser));
        var issued = await Tokens(dashboard).CreateAsync("agent-a");
        await using var agent = await ScriptedAgent.ConnectAsync(dashboard.GrpcUri, issued.Secret, agentId: "agent-a");
        await agent.NextAsync(HubMessage.KindOneofCase.Welcome);
        var studyId = await dashboard.CreateStudyAsync(OneTrialSpec);
        var start = (await agent.NextAsync(HubMessage.KindOneofCase.StartTrial)).StartTrial;
        await agent.ReportAsync(start.TrialId, start.Attempt, seq: 1, epoch: 1, Metrics);
        await agent.NextAsync(HubMessage.KindOneofCase.Ack);

        await Tokens(dashboard).RevokeAsync(issued.Token.Id);

        // The agent does nothing more: its stream ends from the dashboard's side, with a status that says why.
        var ended = await Assert.ThrowsAsync<RpcException>(() => agent.NextAsync(HubMessage.KindOneofCase.Ack));
        Assert.Equal(StatusCode.Unauthenticated, ended.StatusCode);
        Assert.Contains("revoked", ended.Status.Detail, StringComparison.Ordinal);
        Assert.Null(dashboard.App.Services.GetRequiredService<AgentRegistry>().Find("agent-a"));

        await using var again = await ScriptedAgent.ConnectAsync(dashboard.GrpcUri, issued.Secret, agentId: "agent-a");
        await again.ReportAsync(start.TrialId, start.Attempt, seq: 2, epoch: 2, Metrics);
        var refused = await Assert.ThrowsAsync<RpcException>(() => again.NextAsync(HubMessage.KindOneofCase.Welcome));
        Assert.Equal(StatusCode.Unauthenticated, refused.StatusCode);
        Assert.Contains($"agent token {issued.Token.Hint}… of agent \"agent-a\" was revoked at ", refused.Status.Detail, StringComparison.Ordinal);

        // Its trial is handled as a lost agent's; the replayed epoch 2 was never stored.
        var trials = await dashboard.WaitForTrialsAsync(studyId, t => t[0].GetProperty("state").GetString() != "running", TimeSpan.FromSeconds(30));
        Assert.Equal([1], trials[0].GetProperty("epochs").EnumerateArray().Select(e => e.GetProperty("epoch").GetInt32()));
        var revoked = Assert.Single(await Tokens(dashboard).ListAsync());
        Assert.NotNull(revoked.RevokedAt);
    }

    [Fact]
    public async Task CheckpointDownload_WithRevokedToken_IsUnauthenticated()
    {
        await using var dashboard = await RunningDashboard.StartAsync();
        using var admin = UserAccess.ActAs(await dashboard.PrincipalAsync(RunningDashboard.AdminUser));
        var issued = await Tokens(dashboard).CreateAsync("agent-a");
        await Tokens(dashboard).RevokeAsync(issued.Token.Id);
        using var channel = global::Grpc.Net.Client.GrpcChannel.ForAddress(dashboard.GrpcUri);
        var client = new Protos.V1.Checkpoints.CheckpointsClient(channel);

        using var call = client.Download(new CheckpointRef { TrialId = 1, Attempt = 1, Epoch = 1 },
            new Metadata { { "authorization", $"Bearer {issued.Secret}" } });
        var error = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext(CancellationToken.None));

        Assert.Equal(StatusCode.Unauthenticated, error.StatusCode);
        Assert.Contains("revoked", error.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Connect_SharedTokenSwitchedOff_IsUnauthenticatedNamingTheSetting()
    {
        await using var dashboard = await RunningDashboard.StartAsync(extra: new Dictionary<string, string?> { ["Dashboard:AcceptSharedAgentToken"] = "false" });
        using var admin = UserAccess.ActAs(await dashboard.PrincipalAsync(RunningDashboard.AdminUser));

        await using var agent = await ScriptedAgent.ConnectAsync(dashboard.GrpcUri, RunningDashboard.Token, agentId: "local");
        var error = await Assert.ThrowsAsync<RpcException>(() => agent.NextAsync(HubMessage.KindOneofCase.Welcome));

        Assert.Equal(StatusCode.Unauthenticated, error.StatusCode);
        Assert.Contains("Dashboard:AcceptSharedAgentToken", error.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(0, (await dashboard.GetJsonAsync("/api/agents")).GetArrayLength());
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    public async Task Create_BlankAgentId_IsRefusedNamingTheValue(string agentId)
    {
        await using var dashboard = await RunningDashboard.StartAsync();
        using var admin = UserAccess.ActAs(await dashboard.PrincipalAsync(RunningDashboard.AdminUser));

        var error = await Assert.ThrowsAsync<ArgumentException>(() => Tokens(dashboard).CreateAsync(agentId));

        Assert.StartsWith("agent id must be 1 to 200 characters, got \"\"", error.Message, StringComparison.Ordinal);
        Assert.Empty(await Tokens(dashboard).ListAsync());
    }

    [Fact]
    public async Task CreateAndRevoke_NotAnAdmin_AreRefusedNamingTheRole()
    {
        await using var dashboard = await RunningDashboard.StartAsync();
        using var admin = UserAccess.ActAs(await dashboard.PrincipalAsync(RunningDashboard.AdminUser));
        var issued = await Tokens(dashboard).CreateAsync("agent-a");
        (await dashboard.CreateUserAsync("olga", Roles.Operator)).Dispose();
        using var operatorUser = UserAccess.ActAs(await dashboard.PrincipalAsync("olga"));

        var create = await Assert.ThrowsAsync<AccessDeniedException>(() => Tokens(dashboard).CreateAsync("agent-b"));
        var revoke = await Assert.ThrowsAsync<AccessDeniedException>(() => Tokens(dashboard).RevokeAsync(issued.Token.Id));

        Assert.Equal(Roles.Admin, create.RequiredRole);
        Assert.Contains("create agent tokens", create.Message, StringComparison.Ordinal);
        Assert.Equal(Roles.Admin, revoke.RequiredRole);
        Assert.Single(await Tokens(dashboard).ListAsync(), t => t.RevokedAt is null);
    }

    private static AgentTokens Tokens(RunningDashboard dashboard) => dashboard.App.Services.GetRequiredService<AgentTokens>();
}
