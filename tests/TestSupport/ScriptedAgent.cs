using System.Threading.Channels;
using Grpc.Core;
using Grpc.Net.Client;
using HyperTune.Protos.V1;

namespace HyperTune.TestSupport;

/// <summary>
/// A test double for an agent: speaks the real AgentHub protocol over a real gRPC channel, but its
/// "training" is whatever the test sends, so tests can script replays, NaN metrics and odd timings.
/// </summary>
public sealed class ScriptedAgent : IAsyncDisposable
{
    private readonly GrpcChannel channel;
    private readonly AsyncDuplexStreamingCall<AgentMessage, HubMessage> call;
    private readonly Channel<HubMessage> received = Channel.CreateUnbounded<HubMessage>();
    private readonly Task reader;

    private ScriptedAgent(GrpcChannel channel, AsyncDuplexStreamingCall<AgentMessage, HubMessage> call, Metadata headers)
    {
        this.channel = channel;
        this.call = call;
        Headers = headers;
        reader = Task.Run(ReadAsync);
    }

    /// <summary>The headers of its calls (the bearer token, its agent id), for other services on the same channel.</summary>
    public Metadata Headers { get; }

    /// <summary>The Checkpoints service on the agent's channel.</summary>
    public Checkpoints.CheckpointsClient Checkpoints => new(channel);

    /// <summary>Completes when the dashboard's side of the stream has ended (it closed it, or the call failed).</summary>
    public Task Ended => reader;

    /// <summary>Why the stream ended, when it ended with an error.</summary>
    public RpcException? Failure { get; private set; }

    public static Task<ScriptedAgent> ConnectAsync(Uri grpc, string? token, string agentId = "scripted-agent", int slots = 1, params string[] workloads)
    {
        var hello = new Hello { AgentId = agentId, HostName = "test-host", Slots = slots, Version = "test" };
        hello.Workloads.AddRange(workloads.Length > 0 ? workloads : ["fashion-mnist-cnn"]);
        return ConnectAsync(grpc, token, hello);
    }

    /// <summary>Connects as an agent with one slot that declares <paramref name="commands"/> (workloads "command:&lt;name&gt;") and no built-in workload.</summary>
    public static Task<ScriptedAgent> ConnectWithCommandsAsync(Uri grpc, string? token, string agentId, params string[] commands)
    {
        var hello = new Hello { AgentId = agentId, HostName = "test-host", Slots = 1, Version = "test" };
        hello.Commands.Add(commands);
        return ConnectAsync(grpc, token, hello);
    }

    /// <summary>Connects and sends <paramref name="hello"/> as it is (e.g. with commands).</summary>
    public static async Task<ScriptedAgent> ConnectAsync(Uri grpc, string? token, Hello hello)
    {
        var channel = GrpcChannel.ForAddress(grpc);
        var headers = new Metadata { { CheckpointTransfer.AgentIdHeader, hello.AgentId } };
        if (token is not null)
        {
            headers.Add("authorization", $"Bearer {token}");
        }

        var call = new AgentHub.AgentHubClient(channel).Connect(headers);
        var agent = new ScriptedAgent(channel, call, headers);
        await agent.SendAsync(new AgentMessage { Hello = hello });
        return agent;
    }

    public Task SendAsync(AgentMessage message) => call.RequestStream.WriteAsync(message);

    public Task ReportAsync(long trialId, int attempt, long seq, int epoch, IDictionary<string, double> metrics, params int[] checkpointEpochs)
    {
        var report = new EpochReport { TrialId = trialId, Attempt = attempt, Seq = seq, Epoch = epoch };
        report.Metrics.Add(metrics);
        report.CheckpointEpochs.Add(checkpointEpochs);
        return SendAsync(new AgentMessage { EpochReport = report });
    }

    /// <summary>A heartbeat carrying the telemetry a GPU machine would send (no GPU exists where the tests run).</summary>
    public Task HeartbeatAsync(int busySlots, HostSample? host = null, params GpuSample[] gpus)
    {
        var heartbeat = new Heartbeat { SentAt = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTime(DateTime.UtcNow), BusySlots = busySlots, Host = host };
        heartbeat.Gpus.Add(gpus);
        return SendAsync(new AgentMessage { Heartbeat = heartbeat });
    }

    public Task FinishAsync(long trialId, int attempt, long seq, TrialOutcome outcome, string reason = "") =>
        SendAsync(new AgentMessage { TrialFinished = new TrialFinished { TrialId = trialId, Attempt = attempt, Seq = seq, Outcome = outcome, Reason = reason } });

    /// <summary>Confirms a StopTrial as a real agent does the moment it gets one: found, or not running here.</summary>
    public Task ConfirmAsync(StopTrial stop, bool found = true) =>
        SendAsync(new AgentMessage { CommandReceived = new CommandReceived { TrialId = stop.TrialId, Attempt = stop.Attempt, Mode = stop.Mode, Found = found } });

    /// <summary>The next message of the wanted kind (others are skipped), or a timeout.</summary>
    public async Task<HubMessage> NextAsync(HubMessage.KindOneofCase kind, TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(15));
        try
        {
            while (true)
            {
                var message = await received.Reader.ReadAsync(cts.Token);
                if (message.KindCase == kind)
                {
                    return message;
                }
            }
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"no {kind} from the dashboard within {timeout ?? TimeSpan.FromSeconds(15)}");
        }
        catch (ChannelClosedException) when (Failure is not null)
        {
            throw Failure;
        }
    }

    /// <summary>True when a message of this kind arrives within the window (used to assert that none does).</summary>
    public async Task<bool> ReceivesWithinAsync(HubMessage.KindOneofCase kind, TimeSpan window)
    {
        try
        {
            await NextAsync(kind, window);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }

    private async Task ReadAsync()
    {
        try
        {
            await foreach (var message in call.ResponseStream.ReadAllAsync())
            {
                await received.Writer.WriteAsync(message);
            }
        }
        catch (RpcException ex)
        {
            Failure = ex;
        }
        catch (ObjectDisposedException)
        {
            // Disposed by the test while a message was still on its way: the agent is gone, as a killed one would be.
        }
        finally
        {
            received.Writer.TryComplete();
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await call.RequestStream.CompleteAsync();
        }
        catch (Exception ex) when (ex is RpcException or InvalidOperationException)
        {
            // The stream already ended.
        }

        call.Dispose();
        await reader.ConfigureAwait(false);
        channel.Dispose();
    }
}
