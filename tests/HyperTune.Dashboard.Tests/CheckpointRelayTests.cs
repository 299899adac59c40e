using System.Net;
using Grpc.Core;
using HyperTune.Protos.V1;
using HyperTune.TestSupport;

namespace HyperTune.Dashboard.Tests;

/// <summary>Fork and resume across agents through the real dashboard; the agents are scripted, the checkpoint bytes made up.</summary>
public sealed class CheckpointRelayTests
{
    private const string Spec = """
        { "name": "forks", "workload": "fashion-mnist-cnn",
          "objective": { "metric": "val_accuracy", "direction": "maximize" },
          "sampler": { "type": "random", "seed": 3 },
          "budget": { "trials": 1, "parallel": 2 },
          "fixed": { "epochs": 4 },
          "space": { "lr": { "type": "float", "low": 0.001, "high": 0.1, "scale": "log" } } }
        """;

    private static readonly Dictionary<string, double> Accuracy = new() { ["val_accuracy"] = 0.8 };

    [Fact]
    public async Task Fork_OnAnotherAgent_FetchesTheCheckpointFromItsHolderThroughTheDashboard()
    {
        await using var dashboard = await RunningDashboard.StartAsync();
        await using var holder = await ScriptedAgent.ConnectAsync(dashboard.GrpcUri, RunningDashboard.Token, "holder");
        var studyId = await dashboard.CreateStudyAsync(Spec);
        var source = (await holder.NextAsync(HubMessage.KindOneofCase.StartTrial)).StartTrial;
        await holder.ReportAsync(source.TrialId, source.Attempt, 1, 1, Accuracy, 1);
        await holder.ReportAsync(source.TrialId, source.Attempt, 2, 2, Accuracy, 1, 2);
        await holder.NextAsync(HubMessage.KindOneofCase.Ack);
        await holder.NextAsync(HubMessage.KindOneofCase.Ack);
        Assert.Equal([1, 2], (await dashboard.GetJsonAsync($"/api/studies/{studyId}/trials"))[0].GetProperty("checkpointEpochs").EnumerateArray().Select(e => e.GetInt32()));

        // The holder's only slot still runs the source, so the fork goes to the other agent.
        var bad = await dashboard.PostAsync($"/api/trials/{source.TrialId}/fork", """{ "epoch": 3 }""");
        var fork = await dashboard.PostAsync($"/api/trials/{source.TrialId}/fork", """{ "epoch": 1, "params": { "lr": 0.002 } }""");
        await using var other = await ScriptedAgent.ConnectAsync(dashboard.GrpcUri, RunningDashboard.Token, "other");
        var start = (await other.NextAsync(HubMessage.KindOneofCase.StartTrial)).StartTrial;

        Assert.Equal(HttpStatusCode.Conflict, bad.Status);
        Assert.Contains("has checkpoints after epoch 1 and 2, not after epoch 3", bad.Body.ToString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Created, fork.Status);
        var expected = new CheckpointRef { TrialId = source.TrialId, Attempt = source.Attempt, Epoch = 1 };
        Assert.Equal(new ResumeFrom { Checkpoint = expected, Fetch = true }, start.Resume);
        Assert.Equal(0.002, start.Params["lr"].Number);

        // The other agent downloads; the dashboard asks the holder, which uploads; a second download needs no holder.
        var download = DownloadAsync(other, expected);
        var ask = (await holder.NextAsync(HubMessage.KindOneofCase.SendCheckpoint)).SendCheckpoint;
        var bytes = Enumerable.Range(0, (3 << 20) + 17).Select(i => (byte)(i * 31)).ToArray();
        await UploadAsync(holder, expected, bytes);

        Assert.Equal(expected, ask.Checkpoint);
        Assert.Equal(bytes, await download);
        Assert.Equal(bytes, await DownloadAsync(other, expected));
        var trials = await dashboard.GetJsonAsync($"/api/studies/{studyId}/trials");
        Assert.Equal(1, trials[1].GetProperty("resume").GetProperty("epoch").GetInt32());
    }

    [Fact]
    public async Task AgentRestart_WithoutItsTrial_ResumesTheTrialFromItsLastCheckpointAsANewAttempt()
    {
        await using var dashboard = await RunningDashboard.StartAsync();
        var studyId = await dashboard.CreateStudyAsync(Spec);
        var before = await ScriptedAgent.ConnectAsync(dashboard.GrpcUri, RunningDashboard.Token, "box");
        var first = (await before.NextAsync(HubMessage.KindOneofCase.StartTrial)).StartTrial;
        await before.ReportAsync(first.TrialId, first.Attempt, 1, 1, Accuracy, 1);
        await before.ReportAsync(first.TrialId, first.Attempt, 2, 2, Accuracy, 2);
        await before.NextAsync(HubMessage.KindOneofCase.Ack);
        await before.NextAsync(HubMessage.KindOneofCase.Ack);
        await before.DisposeAsync();

        // The same agent comes back, running nothing: it restarted.
        await using var after = await ScriptedAgent.ConnectAsync(dashboard.GrpcUri, RunningDashboard.Token, "box");
        var again = (await after.NextAsync(HubMessage.KindOneofCase.StartTrial)).StartTrial;

        Assert.Equal(first.TrialId, again.TrialId);
        Assert.Equal(first.Attempt + 1, again.Attempt);
        Assert.Equal(new ResumeFrom { Checkpoint = new CheckpointRef { TrialId = first.TrialId, Attempt = first.Attempt, Epoch = 2 }, Fetch = false }, again.Resume);
        var trial = (await dashboard.GetJsonAsync($"/api/studies/{studyId}/trials"))[0];
        Assert.Equal("running", trial.GetProperty("state").GetString());
        Assert.Equal(first.TrialId, trial.GetProperty("resume").GetProperty("trialId").GetInt64());
        Assert.Equal(2, trial.GetProperty("resume").GetProperty("epoch").GetInt32());
    }

    [Fact]
    public async Task Download_WhileItsHolderIsGone_IsUnavailableAndSaysWhere()
    {
        await using var dashboard = await RunningDashboard.StartAsync();
        await using var holder = await ScriptedAgent.ConnectAsync(dashboard.GrpcUri, RunningDashboard.Token, "holder");
        var source = await SourceWithCheckpointAsync(dashboard, holder);
        await dashboard.PostAsync($"/api/trials/{source.TrialId}/fork", """{ "epoch": 1 }""");
        await using var other = await ScriptedAgent.ConnectAsync(dashboard.GrpcUri, RunningDashboard.Token, "other");
        var start = (await other.NextAsync(HubMessage.KindOneofCase.StartTrial)).StartTrial;

        // The holder is gone, and with it the only copy.
        await holder.DisposeAsync();
        await WaitUntilOfflineAsync(dashboard, "holder");
        var ex = await Assert.ThrowsAsync<RpcException>(() => DownloadAsync(other, start.Resume.Checkpoint));

        Assert.Equal(StatusCode.Unavailable, ex.StatusCode);
        Assert.Equal($"the checkpoint of trial {source.TrialId} (attempt 1) after epoch 1 is on agent holder, which is not connected", ex.Status.Detail);
    }

    [Fact]
    public async Task Download_ByAnAgentThatRunsNoTrialFromIt_IsPermissionDeniedAndSaysWhy()
    {
        await using var dashboard = await RunningDashboard.StartAsync();
        await using var holder = await ScriptedAgent.ConnectAsync(dashboard.GrpcUri, RunningDashboard.Token, "holder");
        var source = await SourceWithCheckpointAsync(dashboard, holder);
        await using var stranger = await ScriptedAgent.ConnectAsync(dashboard.GrpcUri, RunningDashboard.Token, "stranger");
        var reference = new CheckpointRef { TrialId = source.TrialId, Attempt = source.Attempt, Epoch = 1 };

        var ex = await Assert.ThrowsAsync<RpcException>(() => DownloadAsync(stranger, reference));
        var asked = await holder.ReceivesWithinAsync(HubMessage.KindOneofCase.SendCheckpoint, TimeSpan.FromMilliseconds(500));

        Assert.Equal(StatusCode.PermissionDenied, ex.StatusCode);
        Assert.Equal($"agent \"stranger\" runs no trial that starts from the checkpoint of trial {source.TrialId} (attempt 1) after epoch 1", ex.Status.Detail);
        Assert.False(asked, "the holder was asked to upload for an agent that may not have the checkpoint");
    }

    [Fact]
    public async Task Upload_ByAnAgentThatDoesNotHoldIt_IsPermissionDeniedAndNothingIsKept()
    {
        await using var dashboard = await RunningDashboard.StartAsync();
        await using var holder = await ScriptedAgent.ConnectAsync(dashboard.GrpcUri, RunningDashboard.Token, "holder");
        var source = await SourceWithCheckpointAsync(dashboard, holder);
        await using var stranger = await ScriptedAgent.ConnectAsync(dashboard.GrpcUri, RunningDashboard.Token, "stranger");
        var reference = new CheckpointRef { TrialId = source.TrialId, Attempt = source.Attempt, Epoch = 1 };

        var ex = await Assert.ThrowsAsync<RpcException>(() => UploadAsync(stranger, reference, [1, 2, 3]));

        Assert.Equal(StatusCode.PermissionDenied, ex.StatusCode);
        Assert.Equal($"agent \"stranger\" may not upload the checkpoint of trial {source.TrialId} (attempt 1) after epoch 1: agent \"holder\" holds it", ex.Status.Detail);
        Assert.False(Directory.Exists(Path.Combine(dashboard.DataDir, "checkpoints")) && Directory.EnumerateFiles(Path.Combine(dashboard.DataDir, "checkpoints")).Any());
    }

    [Fact]
    public async Task Call_NamingNoAgent_IsPermissionDeniedSayingWhichHeader()
    {
        await using var dashboard = await RunningDashboard.StartAsync();
        using var channel = global::Grpc.Net.Client.GrpcChannel.ForAddress(dashboard.GrpcUri);
        var client = new Protos.V1.Checkpoints.CheckpointsClient(channel);

        using var call = client.Download(new CheckpointRef { TrialId = 1, Attempt = 1, Epoch = 1 }, new Metadata { { "authorization", $"Bearer {RunningDashboard.Token}" } });
        var ex = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext(CancellationToken.None));

        Assert.Equal(StatusCode.PermissionDenied, ex.StatusCode);
        Assert.Equal("the call names no agent: send the hypertune-agent-id header with the agent's id", ex.Status.Detail);
    }

    [Fact]
    public async Task Upload_WithAWrongHash_IsRefusedAndNothingIsKept()
    {
        await using var dashboard = await RunningDashboard.StartAsync();
        await using var holder = await ScriptedAgent.ConnectAsync(dashboard.GrpcUri, RunningDashboard.Token, "holder");
        var source = await SourceWithCheckpointAsync(dashboard, holder);
        using var call = holder.Checkpoints.Upload(holder.Headers);
        var reference = new CheckpointRef { TrialId = source.TrialId, Attempt = source.Attempt, Epoch = 1 };

        await call.RequestStream.WriteAsync(new CheckpointChunk { Ref = reference, TotalBytes = 3, Data = Google.Protobuf.ByteString.CopyFrom(1, 2, 3), Sha256 = "00" });
        await call.RequestStream.CompleteAsync();
        var ex = await Assert.ThrowsAsync<RpcException>(() => call.ResponseAsync);

        Assert.Equal(StatusCode.InvalidArgument, ex.StatusCode);
        Assert.StartsWith("checkpoint SHA-256 ", ex.Status.Detail, StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(dashboard.DataDir, "checkpoints")));
    }

    private static async Task WaitUntilOfflineAsync(RunningDashboard dashboard, string agentId)
    {
        for (var i = 0; i < 200; i++)
        {
            if (!(await dashboard.GetJsonAsync("/api/agents")).EnumerateArray().Any(a => a.GetProperty("id").GetString() == agentId && a.GetProperty("online").GetBoolean()))
            {
                return;
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"agent {agentId} still shown online after 20 s");
    }

    /// <summary>The study's trial runs on <paramref name="holder"/>, which keeps a checkpoint after epoch 1 (acknowledged).</summary>
    private static async Task<StartTrial> SourceWithCheckpointAsync(RunningDashboard dashboard, ScriptedAgent holder)
    {
        await dashboard.CreateStudyAsync(Spec);
        var source = (await holder.NextAsync(HubMessage.KindOneofCase.StartTrial)).StartTrial;
        await holder.ReportAsync(source.TrialId, source.Attempt, 1, 1, Accuracy, 1);
        await holder.NextAsync(HubMessage.KindOneofCase.Ack);
        return source;
    }

    private static async Task<byte[]> DownloadAsync(ScriptedAgent agent, CheckpointRef reference)
    {
        using var call = agent.Checkpoints.Download(reference, agent.Headers);
        using var file = new MemoryStream();
        await CheckpointTransfer.ReceiveAsync(call.ResponseStream, file, long.MaxValue, CancellationToken.None);
        return file.ToArray();
    }

    private static async Task UploadAsync(ScriptedAgent agent, CheckpointRef reference, byte[] bytes)
    {
        var path = Path.GetTempFileName();
        await File.WriteAllBytesAsync(path, bytes);
        using var call = agent.Checkpoints.Upload(agent.Headers);
        await CheckpointTransfer.SendAsync(path, reference, chunk => call.RequestStream.WriteAsync(chunk), CancellationToken.None);
        await call.RequestStream.CompleteAsync();
        Assert.Equal(bytes.Length, (await call.ResponseAsync).Bytes);
        File.Delete(path);
    }
}
