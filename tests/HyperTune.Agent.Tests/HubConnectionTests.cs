using HyperTune.Agent.Workloads.FashionMnist;
using HyperTune.Protos.V1;
using HyperTune.Shared.Workloads;
using Microsoft.Extensions.Hosting;
using Kind = HyperTune.Protos.V1.AgentMessage.KindOneofCase;

namespace HyperTune.Agent.Tests;

public sealed class HubConnectionTests : IAsyncLifetime
{
    private TestAgentHub _hub = null!;
    private readonly string _spoolDir = Directory.CreateTempSubdirectory("hypertune-spool-").FullName;
    private IHost? _agent;

    public async Task InitializeAsync() => _hub = await TestAgentHub.StartAsync();

    public async Task DisposeAsync()
    {
        if (_agent is not null)
        {
            await _agent.StopAsync();
            _agent.Dispose();
        }

        await _hub.DisposeAsync();
        Directory.Delete(_spoolDir, recursive: true);
    }

    [Fact]
    public async Task Connect_ConfiguredToken_SendsHelloWithBearerTokenSlotsAndWorkloads()
    {
        await StartAgentAsync();

        var hello = (await _hub.NextAsync(Kind.Hello)).Hello;

        Assert.Equal($"Bearer {_hub.Token}", Assert.Single(_hub.Authorizations));
        Assert.Equal("test-agent", hello.AgentId);
        Assert.Equal(Environment.MachineName, hello.HostName);
        Assert.Equal(1, hello.Slots);
        Assert.Equal([WorkloadCatalog.FashionMnistCnn, WorkloadCatalog.FashionMnistMlp, WorkloadCatalog.FashionMnistResNet], hello.Workloads);
        Assert.Empty(hello.Running);
        Assert.Empty(hello.Gpus);
        Assert.False(string.IsNullOrEmpty(hello.Version));
        var heartbeat = (await _hub.NextAsync(Kind.Heartbeat)).Heartbeat;
        Assert.Equal(0, heartbeat.BusySlots);

        // No GPU here, so no GPU samples; the host's RAM comes from /proc/meminfo.
        Assert.Empty(heartbeat.Gpus);
        Assert.InRange(heartbeat.Host.MemoryUsedBytes, 1, heartbeat.Host.MemoryTotalBytes);
        Assert.Equal(Environment.ProcessorCount, heartbeat.Host.CpuCount);
    }

    [Fact]
    public async Task Connect_TokenFileWrittenLater_ConnectsOnceItExists()
    {
        var tokenFile = Path.Combine(Path.GetTempPath(), $"hypertune-token-{Guid.NewGuid():N}");
        await StartAgentAsync(new() { ["Agent:Token"] = null, ["Agent:TokenFile"] = tokenFile });
        await Task.Delay(TimeSpan.FromSeconds(1));
        Assert.Empty(_hub.Authorizations);

        await File.WriteAllTextAsync(tokenFile, _hub.Token + "\n");
        try
        {
            await _hub.NextAsync(Kind.Hello);
            Assert.Equal($"Bearer {_hub.Token}", _hub.Authorizations.Last());
        }
        finally
        {
            File.Delete(tokenFile);
        }
    }

    [Fact]
    public async Task Connect_WrongToken_KeepsRetryingWithoutEverSendingHello()
    {
        await StartAgentAsync(new() { ["Agent:Token"] = "not-the-dashboard-token" });

        for (var i = 0; i < 100 && _hub.Authorizations.Count < 2; i++)
        {
            await Task.Delay(100);
        }

        Assert.True(_hub.Authorizations.Count >= 2, $"{_hub.Authorizations.Count} attempt(s) in 10 s");
        Assert.All(_hub.Authorizations, a => Assert.Equal("Bearer not-the-dashboard-token", a));
        Assert.False(_hub.Received.Reader.TryPeek(out _));
    }

    [Fact]
    public async Task EpochReports_NotAcknowledged_AreResentInOrderAfterReconnect()
    {
        _hub.AutoAck = false;
        await StartAgentAsync();
        await _hub.NextAsync(Kind.Hello);

        await _hub.SendAsync(Start(7, epochs: 2));
        var first = new[] { await _hub.NextAsync(Kind.EpochReport), await _hub.NextAsync(Kind.EpochReport), await _hub.NextAsync(Kind.TrialFinished) };
        Assert.Equal([1L, 2L, 3L], first.Select(Seq));
        Assert.Equal(TrialOutcome.Completed, first[2].TrialFinished.Outcome);

        _hub.AutoAck = true;
        _hub.DropConnection();
        var hello = (await _hub.NextAsync(Kind.Hello)).Hello;
        var resent = new[] { await _hub.NextAsync(Kind.EpochReport), await _hub.NextAsync(Kind.EpochReport), await _hub.NextAsync(Kind.TrialFinished) };

        Assert.Empty(hello.Running);
        Assert.Equal([1L, 2L, 3L], resent.Select(Seq));
        Assert.Equal(first.Select(m => m.ToString()), resent.Select(m => m.ToString()));

        // Everything is acknowledged now: the next connection re-sends nothing.
        await Task.Delay(TimeSpan.FromSeconds(0.5));
        _hub.DropConnection();
        await _hub.NextAsync(Kind.Hello);
        await _hub.NextAsync(Kind.Heartbeat, TimeSpan.FromSeconds(5));
        Assert.False(_hub.Received.Reader.TryRead(out var extra) && extra.KindCase is Kind.EpochReport or Kind.TrialFinished, $"re-sent after ack: {extra}");
    }

    [Fact]
    public async Task StopTrial_RunningTrial_FinishesStoppedWithTheReasonAndKeepsReportedEpochs()
    {
        await StartAgentAsync();
        await _hub.NextAsync(Kind.Hello);
        await _hub.SendAsync(Start(8, epochs: 1000, trainSamples: 2000));
        var firstEpoch = (await _hub.NextAsync(Kind.EpochReport)).EpochReport;

        await _hub.SendAsync(new HubMessage { StopTrial = new StopTrial { TrialId = 8, Attempt = 1, Reason = "pruned by median rule at epoch 1" } });
        var finished = (await _hub.NextAsync(Kind.TrialFinished, TimeSpan.FromSeconds(10))).TrialFinished;

        Assert.Equal(1, firstEpoch.Epoch);
        Assert.Equal(TrialOutcome.Stopped, finished.Outcome);
        Assert.Equal("pruned by median rule at epoch 1", finished.Reason);
        Assert.True(finished.Seq > firstEpoch.Seq);
    }

    [Fact]
    public async Task StopTrial_Pause_ConfirmsAtOnceThenFinishesPausedKeepingTheLastReportedEpochsCheckpoint()
    {
        var checkpoints = Directory.CreateTempSubdirectory("hypertune-pause-").FullName;
        await StartAgentAsync(new() { ["Agent:CheckpointDir"] = checkpoints });
        await _hub.NextAsync(Kind.Hello);
        await _hub.SendAsync(Start(9, epochs: 1000, trainSamples: 2000));
        var first = await _hub.NextAsync(Kind.EpochReport);

        await _hub.SendAsync(new HubMessage { StopTrial = new StopTrial { TrialId = 9, Attempt = 1, Reason = "paused by user", Mode = StopMode.Pause } });
        using var patience = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var messages = new List<AgentMessage> { first };
        while (messages[^1].KindCase != Kind.TrialFinished)
        {
            var message = await _hub.Received.Reader.ReadAsync(patience.Token);
            if (message.KindCase is Kind.EpochReport or Kind.CommandReceived or Kind.TrialFinished)
            {
                messages.Add(message);
            }
        }

        var received = messages.Single(m => m.KindCase == Kind.CommandReceived).CommandReceived;
        Assert.Equal((9L, 1, StopMode.Pause, true), (received.TrialId, received.Attempt, received.Mode, received.Found));
        Assert.True(messages.FindIndex(m => m.KindCase == Kind.CommandReceived) < messages.Count - 1, "the confirmation came after the finish");
        var finished = messages[^1].TrialFinished;
        Assert.Equal((TrialOutcome.Paused, "paused by user"), (finished.Outcome, finished.Reason));

        // The last report names the checkpoint the trial resumes from: the one of its last finished epoch, kept on disk.
        var last = messages.Last(m => m.KindCase == Kind.EpochReport).EpochReport;
        Assert.Contains(last.Epoch, last.CheckpointEpochs);
        Assert.True(File.Exists(Path.Combine(checkpoints, "trial-9", "attempt-1", $"epoch-{last.Epoch}.ckpt")), $"no checkpoint of epoch {last.Epoch}");
        Assert.False(File.Exists(Path.Combine(checkpoints, "trial-9", "attempt-1", $"epoch-{last.Epoch + 1}.ckpt")));
        Directory.Delete(checkpoints, recursive: true);
    }

    [Fact]
    public async Task StopTrial_NotRunningHere_AnswersNotFoundAndRefusesTheStartThatArrivesAfterIt()
    {
        await StartAgentAsync();
        await _hub.NextAsync(Kind.Hello);

        await _hub.SendAsync(new HubMessage { StopTrial = new StopTrial { TrialId = 12, Attempt = 3, Reason = "stopped by user", Mode = StopMode.Kill } });
        var received = (await _hub.NextAsync(Kind.CommandReceived)).CommandReceived;
        var start = Start(12, epochs: 1000, trainSamples: 2000);
        start.StartTrial.Attempt = 3;
        await _hub.SendAsync(start);
        var finished = (await _hub.NextAsync(Kind.TrialFinished)).TrialFinished;

        Assert.Equal((12L, 3, StopMode.Kill, false), (received.TrialId, received.Attempt, received.Mode, received.Found));
        Assert.Equal((12L, 3, 1L, TrialOutcome.Stopped, "stopped by user"), (finished.TrialId, finished.Attempt, finished.Seq, finished.Outcome, finished.Reason));
    }

    [Fact]
    public async Task StartTrial_SlotBusy_FailsTheSecondWithNoFreeSlot()
    {
        await StartAgentAsync();
        await _hub.NextAsync(Kind.Hello);
        await _hub.SendAsync(Start(9, epochs: 1000, trainSamples: 2000));
        await _hub.NextAsync(Kind.EpochReport);

        await _hub.SendAsync(Start(10, epochs: 1));
        var refused = (await _hub.NextAsync(Kind.TrialFinished)).TrialFinished;

        Assert.Equal((10L, 1, 1L, TrialOutcome.Failed), (refused.TrialId, refused.Attempt, refused.Seq, refused.Outcome));
        Assert.StartsWith("no free slot", refused.Reason, StringComparison.Ordinal);
        await _hub.SendAsync(new HubMessage { StopTrial = new StopTrial { TrialId = 9, Attempt = 1, Reason = "test over" } });
    }

    [Fact]
    public async Task StartTrial_UnknownWorkload_FailsListingTheAgentsWorkloads()
    {
        await StartAgentAsync();
        await _hub.NextAsync(Kind.Hello);

        await _hub.SendAsync(new HubMessage { StartTrial = new StartTrial { TrialId = 11, Attempt = 2, Workload = "imagenet-resnet50" } });
        var refused = (await _hub.NextAsync(Kind.TrialFinished)).TrialFinished;

        Assert.Equal(TrialOutcome.Failed, refused.Outcome);
        Assert.Equal("unknown workload imagenet-resnet50; this agent runs: fashion-mnist-cnn, fashion-mnist-mlp, fashion-mnist-resnet", refused.Reason);
    }

    [Fact]
    public async Task StartTrial_OutOfRangeParameter_FailsNamingParameterAndValue()
    {
        await StartAgentAsync();
        await _hub.NextAsync(Kind.Hello);
        var start = Start(12, epochs: 1);
        start.StartTrial.Params["dropout"] = new ParamValue { Number = 1.5 };

        await _hub.SendAsync(start);
        var failed = (await _hub.NextAsync(Kind.TrialFinished)).TrialFinished;

        Assert.Equal(TrialOutcome.Failed, failed.Outcome);
        Assert.Equal(1, failed.Seq);
        Assert.Equal("parameter dropout must be a number in [0, 0.95], got 1.5", failed.Reason);
    }

    [Fact]
    public async Task StartTrial_LossBecomesNaN_FinishesDivergedNamingEpochAndBatch()
    {
        await StartAgentAsync();
        await _hub.NextAsync(Kind.Hello);
        var start = Start(13, epochs: 2, trainSamples: 2000);
        start.StartTrial.Params["lr"] = new ParamValue { Number = 10 };
        start.StartTrial.Params["weight_decay"] = new ParamValue { Number = 1 };
        start.StartTrial.Params["batch_size"] = new ParamValue { Number = 16 };

        await _hub.SendAsync(start);
        var diverged = (await _hub.NextAsync(Kind.TrialFinished)).TrialFinished;

        Assert.Equal(TrialOutcome.Diverged, diverged.Outcome);
        Assert.Matches(@"^loss became (NaN|\+Inf|-Inf) at epoch 1, batch \d+$", diverged.Reason);
    }

    private static long Seq(AgentMessage m) => m.KindCase == Kind.EpochReport ? m.EpochReport.Seq : m.TrialFinished.Seq;

    private static HubMessage Start(long trialId, int epochs, int trainSamples = 200)
    {
        var start = new StartTrial { TrialId = trialId, Attempt = 1, Workload = WorkloadCatalog.FashionMnistMlp, Slot = 0 };
        start.Params["epochs"] = new ParamValue { Number = epochs };
        start.Params["train_samples"] = new ParamValue { Number = trainSamples };
        start.Params["val_samples"] = new ParamValue { Number = 100 };
        start.Params["lr"] = new ParamValue { Number = 0.05 };
        start.Params["optimizer"] = new ParamValue { Text = "sgd" };
        return new HubMessage { StartTrial = start };
    }

    private async Task StartAgentAsync(Dictionary<string, string?>? extra = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Agent:Id"] = "test-agent",
            ["Agent:DashboardUrl"] = _hub.Url,
            ["Agent:Token"] = _hub.Token,
            ["Agent:Slots"] = "1",
            ["Agent:Device"] = "cpu",
            ["Agent:HeartbeatSeconds"] = "1",
            ["Agent:ReconnectMaxSeconds"] = "1",
            ["Agent:DataDir"] = FashionMnistData.DefaultDirectory,
            ["Agent:SpoolDir"] = _spoolDir,
        };
        foreach (var (key, value) in extra ?? [])
        {
            settings[key] = value;
        }

        _agent = AgentApp.Build([], settings);
        await _agent.StartAsync();
    }
}
