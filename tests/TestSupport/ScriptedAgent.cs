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

    private ScriptedAgent(GrpcChannel channel, AsyncDuplexStreamingCall<AgentMessage, HubMessage> call)
    {
        this.channel = channel;
        this.call = call;
        reader = Task.Run(ReadAsync);
    }

    /// <summary>Why the stream ended, when it ended with an error.</summary>
    public RpcException? Failure { get; private set; }

    public static async Task<ScriptedAgent> ConnectAsync(Uri grpc, string? token, string agentId = "scripted-agent", int slots = 1, params string[] workloads)
    {
        var channel = GrpcChannel.ForAddress(grpc);
        var headers = new Metadata();
        if (token is not null)
        {
            headers.Add("authorization", $"Bearer {token}");
        }

        var call = new AgentHub.AgentHubClient(channel).Connect(headers);
        var agent = new ScriptedAgent(channel, call);
        var hello = new Hello { AgentId = agentId, HostName = "test-host", Slots = slots, Version = "test" };
        hello.Workloads.AddRange(workloads.Length > 0 ? workloads : ["fashion-mnist-cnn"]);
        await agent.SendAsync(new AgentMessage { Hello = hello });
        return agent;
    }

    public Task SendAsync(AgentMessage message) => call.RequestStream.WriteAsync(message);

    public Task ReportAsync(long trialId, int attempt, long seq, int epoch, IDictionary<string, double> metrics)
    {
        var report = new EpochReport { TrialId = trialId, Attempt = attempt, Seq = seq, Epoch = epoch };
        report.Metrics.Add(metrics);
        return SendAsync(new AgentMessage { EpochReport = report });
    }

    public Task FinishAsync(long trialId, int attempt, long seq, TrialOutcome outcome, string reason = "") =>
        SendAsync(new AgentMessage { TrialFinished = new TrialFinished { TrialId = trialId, Attempt = attempt, Seq = seq, Outcome = outcome, Reason = reason } });

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
